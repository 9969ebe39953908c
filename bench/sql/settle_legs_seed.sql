-- bench/settle_legs.sh: pending 4-leg accumulators written directly in SQL
-- (the API would take far too long), consistent with the rules the server
-- keeps: every bet has its legs and its ledger `stake` row, every balance
-- equals the sum of its user's ledger, balance_after follows each user's
-- history, no user has two pending accumulators with the same set of
-- (match, selection) legs, and combined_odds / potential_payout are what a
-- placement computes (the legs' product rounded down).
--
-- psql variables: users, accas, others. Creates 2 + :others open matches:
-- "Settle Target Lost" and "Settle Target Won", each with :accas pending
-- accumulators that have one leg on it (selection "1" at 2.10) and three
-- legs on other matches of the pool of :others (still open, so those legs
-- stay pending). The two groups share no bet. Users "settle-N@example.com"
-- (N = 1 .. :users) get the token 'settlebench' || lpad(N, 32, '0')
-- (43 characters, the server's token shape), stored as its SHA-256.
\set deposit 100000000

CREATE TEMP TABLE s_users AS
WITH ins AS (
  INSERT INTO users (email, name, balance, token_hash, created_at)
  SELECT 'settle-' || i || '@example.com', 'Settle ' || i, :deposit,
         sha256(convert_to('settlebench' || lpad(i::text, 32, '0'), 'UTF8')),
         now() - interval '30 days'
  FROM generate_series(1, :users) AS i
  RETURNING id)
SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM ins;
CREATE UNIQUE INDEX ON s_users (n);

-- n = 0: the target whose legs lose, n = 1: the one whose legs win, then the pool.
CREATE TEMP TABLE s_matches AS
WITH ins AS (
  INSERT INTO matches (team_1, team_2, starts_at, odds_1, odds_x, odds_2)
  SELECT CASE i WHEN 0 THEN 'Settle Target Lost' WHEN 1 THEN 'Settle Target Won'
                ELSE 'Settle Home ' || i END,
         'Settle Away ' || i,
         timestamptz '2033-01-01 12:00:00+00' + i * interval '1 hour', 210, 325, 360
  FROM generate_series(0, :others + 1) AS i
  RETURNING id)
SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM ins;
CREATE UNIQUE INDEX ON s_matches (n);

INSERT INTO ledger (user_id, kind, amount, balance_after, created_at)
SELECT id, 'deposit', :deposit, :deposit, now() - interval '30 days' FROM s_users;

-- Accumulator g (0 .. 2 x accas - 1): group g / accas (its target match),
-- h = g mod accas, user h mod users, t = h / users (the user's t-th in the
-- group); leg 0 on the target, legs 1..3 on pool matches
-- (user + 3t + j - 1) mod others: disjoint for a user's accumulators while
-- 3t < others, so no two of a user's legs sets are equal. Each leg's
-- position in the bet varies with g.
CREATE TEMP TABLE s_legs AS
SELECT g, j, ((j + g) % 4) + 1 AS position, m.id AS match_id, s.selection, s.odds
FROM generate_series(0, 2 * :accas - 1) AS g
CROSS JOIN generate_series(0, 3) AS j
CROSS JOIN LATERAL (
  SELECT CASE WHEN j = 0 THEN g / :accas
              ELSE 2 + ((g % :accas) % :users + 3 * ((g % :accas) / :users) + j - 1) % :others END AS mn,
         CASE WHEN j = 0 THEN 1 ELSE (g + j) % 3 + 1 END AS si) AS p
JOIN s_matches m ON m.n = p.mn
CROSS JOIN LATERAL (SELECT (ARRAY['1', 'X', '2'])[p.si] AS selection,
                           (ARRAY[210, 325, 360])[p.si] AS odds) AS s;

CREATE TEMP TABLE s_bets AS
SELECT l.g, nextval('bets_id_seq') AS id, u.id AS user_id,
       100 + (l.g % 50) * 10 AS stake, l.product, l.legs_key
FROM (SELECT g, betsdb_product(odds::numeric / 100) AS product,
             string_agg(match_id || ':' || selection, ',' ORDER BY match_id) AS legs_key
      FROM s_legs GROUP BY g) AS l
JOIN s_users u ON u.n = (l.g % :accas) % :users
ORDER BY l.g;

-- One bet every 5 ms up to now.
INSERT INTO bets (id, user_id, type, stake, potential_payout, combined_odds, legs_key, created_at)
SELECT id, user_id, 'accumulator', stake, floor(stake * product)::bigint,
       floor(product * 100)::bigint, legs_key,
       now() - (2 * :accas - g) * interval '5 ms'
FROM s_bets ORDER BY id;

INSERT INTO pending_accumulators (bet_id, user_id, legs_key)
SELECT id, user_id, legs_key FROM s_bets ORDER BY id;

INSERT INTO bet_legs (bet_id, position, match_id, selection, odds, odds_version)
SELECT b.id, l.position, l.match_id, l.selection, l.odds, 1
FROM s_legs l JOIN s_bets b ON b.g = l.g
ORDER BY b.id, l.position;

INSERT INTO ledger (user_id, kind, amount, bet_id, balance_after, created_at)
SELECT b.user_id, 'stake', -b.stake, b.id,
       :deposit - sum(b.stake) OVER (PARTITION BY b.user_id ORDER BY b.id), b.created_at
FROM bets b JOIN s_users u ON u.id = b.user_id
ORDER BY b.id;  -- ledger ids in bet order, so each user's newest row holds the balance

UPDATE users SET balance = :deposit - t.staked
FROM (SELECT b.user_id, sum(b.stake) AS staked
      FROM bets b JOIN s_users u ON u.id = b.user_id GROUP BY b.user_id) AS t
WHERE users.id = t.user_id;

VACUUM ANALYZE users;
VACUUM ANALYZE matches;
VACUUM ANALYZE match_exposure;
VACUUM ANALYZE bets;
VACUUM ANALYZE bet_legs;
VACUUM ANALYZE pending_accumulators;
VACUUM ANALYZE ledger;

SELECT (SELECT id FROM s_matches WHERE n = 0) AS target_lost,
       (SELECT id FROM s_matches WHERE n = 1) AS target_won \gset
\echo target_lost :target_lost
\echo target_won :target_won
SELECT count(*) AS pending_legs_lost FROM bet_legs WHERE match_id = :target_lost AND status = 'pending' \gset
SELECT count(*) AS pending_legs_won FROM bet_legs WHERE match_id = :target_won AND status = 'pending' \gset
\echo pending_legs_lost :pending_legs_lost
\echo pending_legs_won :pending_legs_won
SELECT count(*) AS accumulators FROM bets WHERE type = 'accumulator' AND status = 'pending' \gset
\echo accumulators :accumulators
SELECT count(*) AS legs FROM bet_legs \gset
\echo legs :legs
SELECT count(*) AS inconsistent_balances FROM users u
WHERE u.balance <> (SELECT coalesce(sum(amount), 0) FROM ledger l WHERE l.user_id = u.id) \gset
\echo inconsistent_balances :inconsistent_balances
