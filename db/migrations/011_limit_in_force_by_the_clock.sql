-- The limit in force is the one the clock has reached when the debit is
-- decided, not when the debiting transaction began. A placement's `now()`
-- is the start of its transaction, taken before it waited for its matches'
-- rows: a limit lowered meanwhile (effective_at = the change's own `now()`,
-- later than the placement's) was not yet "in force" by that time, and a
-- bet that went on after the change had answered could pass it. The user's
-- row lock orders the two (set_user_limit's transaction takes it first), so
-- `clock_timestamp()`, read after that lock, is past every change that
-- committed before the check. The windows still end at `now()`, the time
-- the debit stamps on its ledger rows.
CREATE OR REPLACE FUNCTION within_limits(p_user bigint, p_kind text, p_total bigint, p_add bigint)
RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  in_force_at timestamptz := clock_timestamp();
BEGIN
  RETURN NOT EXISTS (
    SELECT 1
    FROM (VALUES ('day', interval '24 hours'), ('week', interval '7 days'),
                 ('month', interval '30 days')) AS w (period, length)
    CROSS JOIN LATERAL (SELECT amount FROM user_limits
                        WHERE user_id = p_user AND kind = p_kind AND period = w.period
                          AND effective_at <= in_force_at
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
