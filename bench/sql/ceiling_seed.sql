-- The pgbench ceiling database: the server's schema (applied by
-- `betsdb migrate`), filled with users who can afford any run and open
-- matches. psql variables: users, matches.
INSERT INTO users (email, name, balance, token_hash)
SELECT 'ceiling-' || i || '@example.com', 'Ceiling ' || i, 1000000000000,
       sha256(convert_to('ceiling-' || i, 'UTF8'))
FROM generate_series(1, :users) AS i;

INSERT INTO ledger (user_id, kind, amount, balance_after)
SELECT id, 'deposit', balance, balance FROM users;

INSERT INTO matches (team_1, team_2, starts_at, odds_1, odds_x, odds_2)
SELECT 'Ceiling Home ' || i, 'Ceiling Away ' || i,
       timestamptz '2031-01-01 12:00:00+00' + i * interval '1 hour', 210, 325, 360
FROM generate_series(1, :matches) AS i;

VACUUM ANALYZE users;
VACUUM ANALYZE matches;
VACUUM ANALYZE ledger;
