-- Passwords can be changed (PUT /v1/users/{id}/password and
-- PUT /v1/operators/{id}/password), which ends the account's other
-- sessions: a user's are found by user, as an operator's are by operator.
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE user_id IS NOT NULL;
-- Not CONCURRENTLY (migrations run in a transaction): sessions are pruned a
-- day after they end, so the table holds about the live sessions, and the
-- build is short.
