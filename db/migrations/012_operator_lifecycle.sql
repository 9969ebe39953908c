-- Operators can be disabled (they cannot sign in, and their sessions end)
-- and their role changed by an admin (PATCH /v1/operators/{id}).
ALTER TABLE operators ADD COLUMN disabled_at timestamptz;

-- Ending an operator's sessions finds them by operator, not by token.
CREATE INDEX sessions_operator_idx ON sessions (operator_id) WHERE operator_id IS NOT NULL;
