-- Idempotency-Key on POST /v1/users/{id}/deposits, kept by the database:
-- a deposit made under a key is recorded here in the deposit's own
-- statement, so a retry (after a timeout, a 503 whose outcome is unknown,
-- a server that died before answering) finds it and answers it again
-- instead of crediting twice. Unlike the Redis records of bets and
-- checkouts, nothing here expires, and neither a Redis outage nor a lost
-- process can let a second credit through: money coming in has no other
-- guard (a bet has its unique index, a deposit nothing).
--
-- A new table rather than a column of `ledger`: a unique index on the
-- ledger would be built under a lock that stops every bet while it scans
-- the whole table.
CREATE TABLE deposit_keys (
  user_id    bigint NOT NULL REFERENCES users (id),
  key_digest bytea  NOT NULL,  -- SHA-256 of the client's Idempotency-Key
  ledger_id  bigint NOT NULL REFERENCES ledger (id),
  PRIMARY KEY (user_id, key_digest)
);
