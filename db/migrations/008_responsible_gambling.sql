-- Responsible gambling: deposit and stake limits over rolling windows,
-- self-exclusion and time-outs (docs/architecture.md, "Responsible gambling").
--
-- The windows are computed from the ledger. Every 'stake' and 'deposit' row
-- carries the user's lifetime total of its kind after it (running_total), and
-- users.stakes_total / users.deposits_total hold the newest. A user's rows of
-- one kind are written under the user's row lock with non-decreasing times
-- (users.staked_at / users.deposited_at: greatest(previous, now())), so the
-- rows older than a window's start are exactly a prefix of them, and
--   sum in the window = total now - running_total of the newest older row,
-- two index look-ups whatever the number of bets.

ALTER TABLE users
  ADD COLUMN self_excluded_until timestamptz,
  ADD COLUMN timeout_until       timestamptz,
  ADD COLUMN stakes_total        bigint NOT NULL DEFAULT 0,  -- every stake ever placed
  ADD COLUMN staked_at           timestamptz,                -- the newest stake row's time
  ADD COLUMN deposits_total      bigint NOT NULL DEFAULT 0,  -- every deposit ever made
  ADD COLUMN deposited_at        timestamptz,                -- the newest deposit row's time
  -- Set by the first change of the user's limits: until then a debit need
  -- not look for any (a stale true costs a look-up, never a wrong answer).
  ADD COLUMN limits_set          boolean NOT NULL DEFAULT false;

ALTER TABLE ledger ADD COLUMN running_total bigint;

-- The rows from before this migration, in time order (id breaks ties).
UPDATE ledger l SET running_total = r.running
FROM (SELECT id, sum(abs(amount)) OVER (PARTITION BY user_id, kind ORDER BY created_at, id) AS running
      FROM ledger WHERE kind IN ('stake', 'deposit')) r
WHERE l.id = r.id;

UPDATE users u SET stakes_total = t.stakes, staked_at = t.staked, deposits_total = t.deposits,
                   deposited_at = t.deposited
FROM (SELECT user_id,
             coalesce(sum(-amount) FILTER (WHERE kind = 'stake'), 0) AS stakes,
             max(created_at) FILTER (WHERE kind = 'stake') AS staked,
             coalesce(sum(amount) FILTER (WHERE kind = 'deposit'), 0) AS deposits,
             max(created_at) FILTER (WHERE kind = 'deposit') AS deposited
      FROM ledger WHERE kind IN ('stake', 'deposit') GROUP BY user_id) t
WHERE u.id = t.user_id;

CREATE INDEX ledger_running_total_idx ON ledger (user_id, kind, created_at, running_total)
  WHERE running_total IS NOT NULL;

-- A user's limits: the one in force for (kind, period) is the row with the
-- newest effective_at <= now(); a row with a later effective_at is a pending
-- raise or removal (at most one per kind and period). It applies by itself:
-- every read compares with now(). amount NULL: no limit.
CREATE TABLE user_limits (
  user_id      bigint      NOT NULL REFERENCES users (id),
  kind         text        NOT NULL,
  period       text        NOT NULL,
  effective_at timestamptz NOT NULL,
  amount       bigint,
  CONSTRAINT user_limits_pkey PRIMARY KEY (user_id, kind, period, effective_at),
  CONSTRAINT user_limits_kind_check CHECK (kind IN ('deposit', 'stake')),
  CONSTRAINT user_limits_period_check CHECK (period IN ('day', 'week', 'month')),
  CONSTRAINT user_limits_amount_range CHECK (amount BETWEEN 0 AND 1000000000000)
);

-- Whether moving `p_add` more of `kind` keeps every window within its limit,
-- `p_total` being the user's lifetime total now (read under their row lock
-- by the caller). PL/pgSQL keeps its plans for the session (a SQL function
-- with sub-selects is planned again on every call); VOLATILE: each look-up
-- takes a fresh snapshot, so a debit that waited for the user's row sees
-- the limits committed by the writer it waited for.
CREATE FUNCTION within_limits(p_user bigint, p_kind text, p_total bigint, p_add bigint)
RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  -- Per period with a limit in force, the newest row older than the window:
  -- its running total is the sum of everything before the window. One
  -- statement, so one executor start per call.
  RETURN NOT EXISTS (
    SELECT 1
    FROM (VALUES ('day', interval '24 hours'), ('week', interval '7 days'),
                 ('month', interval '30 days')) AS w (period, length)
    CROSS JOIN LATERAL (SELECT amount FROM user_limits
                        WHERE user_id = p_user AND kind = p_kind AND period = w.period
                          AND effective_at <= now()
                        ORDER BY effective_at DESC LIMIT 1) l
    WHERE l.amount IS NOT NULL
      AND p_total + p_add
          - coalesce((SELECT running_total FROM ledger
                      WHERE user_id = p_user AND kind = p_kind AND running_total IS NOT NULL
                        AND created_at < now() - w.length
                      ORDER BY created_at DESC, running_total DESC LIMIT 1), 0)
          > l.amount);
END
$$;

-- For explaining a refusal after the fact: whether `p_add` more would pass a
-- limit, from the newest committed state.
CREATE FUNCTION exceeds_limits(p_user bigint, p_kind text, p_add bigint)
RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  total bigint;
BEGIN
  SELECT CASE p_kind WHEN 'stake' THEN stakes_total ELSE deposits_total END INTO total
  FROM users WHERE id = p_user;
  RETURN total IS NOT NULL AND NOT within_limits(p_user, p_kind, total, p_add);
END
$$;

-- Until when betting is paused (the later of a running self-exclusion and a
-- running time-out), or NULL, from the newest committed state.
CREATE FUNCTION betting_paused_until(p_user bigint)
RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  until timestamptz;
BEGIN
  SELECT greatest(CASE WHEN self_excluded_until > now() THEN self_excluded_until END,
                  CASE WHEN timeout_until > now() THEN timeout_until END) INTO until
  FROM users WHERE id = p_user;
  RETURN until;
END
$$;

-- One change asked by PUT /v1/users/{id}/limits; the caller holds the user's
-- row lock. Tighter (or new) applies at once and cancels a pending change;
-- looser (a raise or a removal) waits 24 h, replacing a pending change unless
-- it is the same one asked again (which keeps its time).
CREATE FUNCTION set_user_limit(p_user bigint, p_kind text, p_period text, p_amount bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  in_force_at    timestamptz;
  current_amount bigint;
  pending_amount bigint;
  has_pending    boolean;
BEGIN
  SELECT effective_at, amount INTO in_force_at, current_amount FROM user_limits
  WHERE user_id = p_user AND kind = p_kind AND period = p_period AND effective_at <= now()
  ORDER BY effective_at DESC LIMIT 1;

  SELECT amount INTO pending_amount FROM user_limits
  WHERE user_id = p_user AND kind = p_kind AND period = p_period AND effective_at > now();
  has_pending := FOUND;

  -- The history before the limit in force decides nothing any more.
  DELETE FROM user_limits
  WHERE user_id = p_user AND kind = p_kind AND period = p_period AND effective_at < in_force_at;

  IF p_amount IS NOT NULL AND (current_amount IS NULL OR p_amount <= current_amount) THEN
    DELETE FROM user_limits
    WHERE user_id = p_user AND kind = p_kind AND period = p_period AND effective_at > now();
    IF current_amount IS DISTINCT FROM p_amount THEN
      INSERT INTO user_limits (user_id, kind, period, effective_at, amount)
      VALUES (p_user, p_kind, p_period, now(), p_amount)
      ON CONFLICT (user_id, kind, period, effective_at) DO UPDATE SET amount = EXCLUDED.amount;
    END IF;
  ELSIF p_amount IS NULL AND current_amount IS NULL THEN
    DELETE FROM user_limits
    WHERE user_id = p_user AND kind = p_kind AND period = p_period AND effective_at > now();
  ELSIF NOT (has_pending AND pending_amount IS NOT DISTINCT FROM p_amount) THEN
    DELETE FROM user_limits
    WHERE user_id = p_user AND kind = p_kind AND period = p_period AND effective_at > now();
    INSERT INTO user_limits (user_id, kind, period, effective_at, amount)
    VALUES (p_user, p_kind, p_period, now() + interval '24 hours', p_amount);
  END IF;
END
$$;
