-- --big: brings the server's database to :target bets directly in SQL (the
-- API would take far too long), consistent with the rules the server keeps:
-- every bet has its ledger `stake` row, every balance equals the sum of the
-- user's ledger, balance_after follows each user's history, and no user has
-- two live bets on one match and selection.
-- psql variables: users, matches, target. New users "big-N@example.com" get
-- the token 'bigbench' || lpad(N, 35, '0') (43 characters, the server's token
-- shape), stored as its SHA-256 like every token.
\set deposit 100000000

CREATE TEMP TABLE big_users AS
WITH ins AS (
  INSERT INTO users (email, name, balance, token_hash, created_at)
  SELECT 'big-' || i || '@example.com', 'Big ' || i, :deposit,
         sha256(convert_to('bigbench' || lpad(i::text, 35, '0'), 'UTF8')),
         now() - interval '30 days'
  FROM generate_series(1, :users) AS i
  RETURNING id)
SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM ins;

CREATE TEMP TABLE big_matches AS
WITH ins AS (
  INSERT INTO matches (team_1, team_2, starts_at, odds_1, odds_x, odds_2)
  SELECT 'Big Home ' || i, 'Big Away ' || i,
         timestamptz '2032-01-01 12:00:00+00' + i * interval '1 hour', 210, 325, 360
  FROM generate_series(1, :matches) AS i
  RETURNING id)
SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM ins;

INSERT INTO ledger (user_id, kind, amount, balance_after, created_at)
SELECT id, 'deposit', :deposit, :deposit, now() - interval '30 days' FROM big_users;

SELECT greatest(0, :target - count(*)) AS need, coalesce(max(id), 0) AS last_id FROM bets \gset

-- The summary's totals (migration 010) get these bets' changes grouped, as
-- one statement, instead of a trigger's row per bet (ten million of them).
-- One transaction: an interrupted seed must not leave the trigger disabled.
BEGIN;
ALTER TABLE bets DISABLE TRIGGER bets_totals_insert;

-- Bet g: user g mod users, match (g / users) mod matches, selection after
-- that; stakes 1.00 .. 5.90; one bet every 10 ms up to now.
INSERT INTO bets (user_id, match_id, selection, stake, odds, potential_payout, created_at)
SELECT u.id, m.id, s.selection, s.stake, s.odds, s.stake * s.odds / 100,
       now() - (:need - g) * interval '10 ms'
FROM generate_series(0, :need - 1) AS g
JOIN big_users u ON u.n = g % :users
JOIN big_matches m ON m.n = (g / :users) % :matches
CROSS JOIN LATERAL (
  SELECT (ARRAY['1', 'X', '2'])[(g / (:users * :matches)) % 3 + 1] AS selection,
         100 + (g % 50) * 10 AS stake,
         (ARRAY[210, 325, 360])[(g / (:users * :matches)) % 3 + 1] AS odds) AS s;

ALTER TABLE bets ENABLE TRIGGER bets_totals_insert;
INSERT INTO bet_total_changes (type, match_id, selection, status, bets, stake)
SELECT type, match_id, selection, status, count(*), sum(stake)
FROM bets WHERE id > :last_id GROUP BY type, match_id, selection, status;
COMMIT;
SELECT fold_bet_total_changes(true);

INSERT INTO ledger (user_id, kind, amount, bet_id, balance_after, created_at)
SELECT b.user_id, 'stake', -b.stake, b.id,
       :deposit - sum(b.stake) OVER (PARTITION BY b.user_id ORDER BY b.id), b.created_at
FROM bets b JOIN big_users u ON u.id = b.user_id
ORDER BY b.id;  -- ledger ids in bet order, so each user's newest row holds the balance

UPDATE users SET balance = :deposit - t.staked
FROM (SELECT b.user_id, sum(b.stake) AS staked
      FROM bets b JOIN big_users u ON u.id = b.user_id GROUP BY b.user_id) AS t
WHERE users.id = t.user_id;

-- The pending bets written above count in their matches' exposure, as
-- placements would have counted them (migration 003 keeps one row per match).
UPDATE match_exposure e SET bets = t.bets, stake_1 = t.s1, stake_x = t.sx, stake_2 = t.s2,
       payout_1 = t.p1, payout_x = t.px, payout_2 = t.p2
FROM (SELECT b.match_id, count(*) AS bets,
             coalesce(sum(b.stake) FILTER (WHERE b.selection = '1'), 0) AS s1,
             coalesce(sum(b.stake) FILTER (WHERE b.selection = 'X'), 0) AS sx,
             coalesce(sum(b.stake) FILTER (WHERE b.selection = '2'), 0) AS s2,
             coalesce(sum(b.potential_payout) FILTER (WHERE b.selection = '1'), 0) AS p1,
             coalesce(sum(b.potential_payout) FILTER (WHERE b.selection = 'X'), 0) AS px,
             coalesce(sum(b.potential_payout) FILTER (WHERE b.selection = '2'), 0) AS p2
      FROM bets b JOIN big_matches m ON m.id = b.match_id
      WHERE b.status = 'pending' GROUP BY b.match_id) AS t
WHERE e.match_id = t.match_id;

VACUUM ANALYZE users;
VACUUM ANALYZE matches;
VACUUM ANALYZE match_exposure;
VACUUM ANALYZE bets;
VACUUM ANALYZE ledger;
VACUUM ANALYZE bet_total_changes;
VACUUM ANALYZE bet_totals;
VACUUM ANALYZE match_bet_totals;

SELECT count(*) AS bets_total FROM bets \gset
\echo bets_total :bets_total
-- The invariant the API promises, checked over every user.
SELECT count(*) AS inconsistent FROM users u
WHERE u.balance <> (SELECT coalesce(sum(amount), 0) FROM ledger l WHERE l.user_id = u.id) \gset
\echo inconsistent_balances :inconsistent
-- And the summary's totals count every bet (migration 010).
SELECT count(*) - (SELECT coalesce(sum(bets), 0) FROM bet_totals)
                - (SELECT coalesce(sum(bets), 0) FROM bet_total_changes) AS uncounted
FROM bets \gset
\echo uncounted_bets :uncounted
