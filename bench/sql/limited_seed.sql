-- place_limited (issue 21): bettors who each have a stake limit per day,
-- week and month and a long history of stakes, written in SQL (the API
-- would take hours), consistent with the rules the server keeps:
--   - every stake row carries the user's running total of stakes up to and
--     including it, in the order of created_at (no two rows of a user share
--     one), and users.stakes_total / users.staked_at hold the newest;
--   - the deposit that funds them carries its running total too
--     (users.deposits_total, users.deposited_at);
--   - every balance equals the sum of the user's ledger, and balance_after
--     follows each user's history;
--   - the limits are in force (effective_at in the past) and leave every
--     window room for far more than a run stakes, yet the day's and week's
--     are below the user's lifetime total: only the windows' own sums keep
--     the bets within them.
-- The history is ledger rows only (bet_id NULL): the limit check reads the
-- ledger and nothing else, and a 6,400,000-row `bets` table would change
-- what every other scenario (and --big) measures.
-- psql variables: users, bets (per user), matches (open matches for the
-- scenario's own bets), headroom (cents above each window's sum).
-- New users "limited-N@example.com" get the token
-- 'limbench' || lpad(N, 35, '0') (43 characters, the server's token shape),
-- stored as its SHA-256 like every token.
\set deposit 1000000000

BEGIN;

CREATE TEMP TABLE lim_users AS
WITH ins AS (
  INSERT INTO users (email, name, balance, token_hash, created_at)
  SELECT 'limited-' || i || '@example.com', 'Limited ' || i, 0,
         sha256(convert_to('limbench' || lpad(i::text, 35, '0'), 'UTF8')),
         now() - interval '31 days'
  FROM generate_series(1, :users) AS i
  RETURNING id)
SELECT id FROM ins;

-- One history, the same for every user: bet g of :bets at an even step over
-- the last 30 days (the newest about 26 s before now, the oldest 30 days
-- ago: from the run's start on, the oldest fall out of the month as the
-- clock moves), stakes 1.00 .. 5.90, and its running total.
CREATE TEMP TABLE lim_history AS
SELECT g, stake, sum(stake) OVER (ORDER BY g) AS running, at
FROM (SELECT g, 100 + (g % 50) * 10 AS stake,
             now() - (:bets - g) * (interval '30 days' / :bets) AS at
      FROM generate_series(0, :bets - 1) AS g) AS h;

INSERT INTO ledger (user_id, kind, amount, balance_after, running_total, created_at)
SELECT id, 'deposit', :deposit, :deposit, :deposit, now() - interval '31 days' FROM lim_users
ORDER BY id;

ANALYZE lim_users;
ANALYZE lim_history;

-- In (user, time) order, so ids follow each user's history too (the newest
-- row holds the balance, as the server writes them); the sort stays in
-- memory. The rows reference only the users inserted above, so the foreign
-- key's per-row check is skipped for this one statement (replica role: no
-- triggers; it saves a third of the time). The matches below need their
-- triggers (exposure row, outbox), hence the reset right after.
SET LOCAL work_mem = '1GB';
SET LOCAL session_replication_role = replica;
INSERT INTO ledger (user_id, kind, amount, balance_after, running_total, created_at)
SELECT u.id, 'stake', -h.stake, :deposit - h.running, h.running, h.at
FROM lim_users u CROSS JOIN lim_history h
ORDER BY u.id, h.g;
SET LOCAL session_replication_role = origin;
RESET work_mem;

UPDATE users SET balance = :deposit - t.total, stakes_total = t.total, staked_at = t.newest,
                 limits_set = true,
                 deposits_total = :deposit, deposited_at = now() - interval '31 days'
FROM (SELECT max(running) AS total, max(at) AS newest FROM lim_history) AS t
WHERE users.id IN (SELECT id FROM lim_users);

-- Each window's sum now, plus the headroom.
INSERT INTO user_limits (user_id, kind, period, effective_at, amount)
SELECT u.id, 'stake', w.period, now() - interval '31 days',
       (SELECT coalesce(sum(stake), 0) FROM lim_history WHERE at >= now() - w.length) + :headroom
FROM lim_users u
CROSS JOIN (VALUES ('day', interval '24 hours'), ('week', interval '7 days'),
                   ('month', interval '30 days')) AS w (period, length);

-- The scenario's own open matches: its bettors are few, so they need more
-- matches than place's for every bet of a run to be a new (user, match,
-- selection).
INSERT INTO matches (team_1, team_2, starts_at, odds_1, odds_x, odds_2)
SELECT 'Limited Home ' || i, 'Limited Away ' || i,
       timestamptz '2033-01-01 12:00:00+00' + i * interval '1 hour', 210, 325, 360
FROM generate_series(1, :matches) AS i;

SELECT max(running) AS lifetime, count(*) AS history FROM lim_history \gset
COMMIT;

VACUUM ANALYZE users;
VACUUM ANALYZE ledger;
VACUUM ANALYZE user_limits;
VACUUM ANALYZE matches;
VACUUM ANALYZE match_exposure;

-- Checks, over every limited user: the balance is the sum of the ledger;
-- each stake row's running total is the sum of the user's stakes up to it,
-- in (created_at, id) order; the user's totals are the newest row's.
SELECT count(*) AS inconsistent_balances FROM users u
WHERE u.email LIKE 'limited-%@example.com'
  AND u.balance <> (SELECT coalesce(sum(amount), 0) FROM ledger l WHERE l.user_id = u.id) \gset
SELECT count(*) FILTER (WHERE running_total <> expected) AS wrong_running_totals,
       count(*) AS stake_rows
FROM (SELECT l.running_total,
             sum(-l.amount) OVER (PARTITION BY l.user_id ORDER BY l.created_at, l.id) AS expected
      FROM ledger l JOIN users u ON u.id = l.user_id
      WHERE u.email LIKE 'limited-%@example.com' AND l.kind = 'stake') AS r \gset
SELECT count(*) AS wrong_totals FROM users u
CROSS JOIN LATERAL (SELECT max(running_total) AS total, max(created_at) AS newest
                    FROM ledger l WHERE l.user_id = u.id AND l.kind = 'stake') AS s
WHERE u.email LIKE 'limited-%@example.com'
  AND (u.stakes_total, u.staked_at) IS DISTINCT FROM (s.total, s.newest) \gset
SELECT string_agg(period || '=' || amount, ' ' ORDER BY array_position(ARRAY['day', 'week', 'month'], period))
       AS limits
FROM user_limits WHERE user_id = (SELECT min(id) FROM users WHERE email LIKE 'limited-%@example.com') \gset
\echo stake_rows :stake_rows
\echo history_per_user :history
\echo lifetime_stakes_per_user :lifetime
\echo stake_limits :limits
\echo inconsistent_balances :inconsistent_balances
\echo wrong_running_totals :wrong_running_totals
\echo wrong_totals :wrong_totals
