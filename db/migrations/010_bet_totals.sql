-- The summary (GET /v1/bets/summary) in constant time: totals kept as bets
-- are placed, settled and cashed out, instead of a scan of every bet on each
-- cache miss (161 ms at 1,000,000 bets, ten times that at 10,000,000).
--
-- No placement touches a shared row. Every new bet appends a row to
-- bet_total_changes, and every statement that updates or deletes bets its
-- net change, grouped (statement-level triggers: settling 100,000 bets
-- appends a handful of rows). A counter
-- row updated by every placement would serialize them all on its lock until
-- commit. The changes are folded into the totals by fold_bet_total_changes(),
-- which the server runs every second (one folder at a time, whatever the
-- number of instances), and the summary reads the totals plus what is not
-- folded yet, in one snapshot: exact at every moment, never a second late.
--
-- Triggers, not the placing statements, so that every writer is counted:
-- placement, checkout, accumulators, settlement, cash-out, and SQL typed by
-- hand. `betsdb check` compares the totals with a full recount.

CREATE TABLE bet_total_changes (
  type      text   NOT NULL,
  match_id  bigint,           -- NULL for accumulators
  selection text,             -- NULL for accumulators
  status    text   NOT NULL,
  bets      bigint NOT NULL,
  stake     bigint NOT NULL
);

-- Per type, selection ('' for accumulators: a key has no NULLs) and status.
CREATE TABLE bet_totals (
  type      text   NOT NULL,
  selection text   NOT NULL,
  status    text   NOT NULL,
  bets      bigint NOT NULL,
  stake     bigint NOT NULL,
  PRIMARY KEY (type, selection, status)
);

-- Single bets per match, whatever their status: top_matches reads the first
-- ten of this index.
CREATE TABLE match_bet_totals (
  match_id bigint PRIMARY KEY,
  bets     bigint NOT NULL,
  stake    bigint NOT NULL
);
CREATE INDEX match_bet_totals_by_stake ON match_bet_totals (stake DESC, match_id);

-- A placement inserts one to a few bets: a row trigger appends a row per
-- bet, which costs a placement nothing measurable, where a statement trigger
-- (a transition table, an aggregate) cost about 6% of pgbench's placing
-- transaction (docs/performance.md). A bulk insert appends a row per bet too.
-- Each function keeps the search_path it was created with: a trigger runs
-- with its caller's, and a writer of another schema's bets (the tests keep
-- one schema each) would otherwise append to its own schema's changes.
CREATE FUNCTION bet_totals_record_insert() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO bet_total_changes (type, match_id, selection, status, bets, stake)
  VALUES (NEW.type, NEW.match_id, NEW.selection, NEW.status, 1, NEW.stake);
  RETURN NULL;
END $$;

-- A settlement or cash-out moves bets from one status to another: -1 under
-- the old, +1 under the new. Updates that change no status add nothing.
CREATE FUNCTION bet_totals_record_update() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO bet_total_changes (type, match_id, selection, status, bets, stake)
  SELECT type, match_id, selection, status, sum(bets), sum(stake)
  FROM (SELECT type, match_id, selection, status, 1 AS bets, stake FROM new_bets
        UNION ALL
        SELECT type, match_id, selection, status, -1, -stake FROM old_bets) AS moved
  GROUP BY type, match_id, selection, status
  HAVING sum(bets) <> 0 OR sum(stake) <> 0;
  RETURN NULL;
END $$;

CREATE FUNCTION bet_totals_record_delete() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO bet_total_changes (type, match_id, selection, status, bets, stake)
  SELECT type, match_id, selection, status, -count(*), -sum(stake)
  FROM old_bets GROUP BY type, match_id, selection, status;
  RETURN NULL;
END $$;

CREATE FUNCTION bet_totals_record_truncate() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  TRUNCATE bet_total_changes, bet_totals, match_bet_totals;
  RETURN NULL;
END $$;

-- Written before the triggers: the totals below count every bet committed
-- before this migration, and the triggers every one after.
LOCK TABLE bets IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER bets_totals_insert AFTER INSERT ON bets
  FOR EACH ROW EXECUTE FUNCTION bet_totals_record_insert();
CREATE TRIGGER bets_totals_update AFTER UPDATE ON bets
  REFERENCING OLD TABLE AS old_bets NEW TABLE AS new_bets
  FOR EACH STATEMENT EXECUTE FUNCTION bet_totals_record_update();
CREATE TRIGGER bets_totals_delete AFTER DELETE ON bets
  REFERENCING OLD TABLE AS old_bets
  FOR EACH STATEMENT EXECUTE FUNCTION bet_totals_record_delete();
CREATE TRIGGER bets_totals_truncate AFTER TRUNCATE ON bets
  FOR EACH STATEMENT EXECUTE FUNCTION bet_totals_record_truncate();

INSERT INTO bet_totals (type, selection, status, bets, stake)
SELECT type, coalesce(selection, ''), status, count(*), sum(stake)
FROM bets GROUP BY type, coalesce(selection, ''), status;

INSERT INTO match_bet_totals (match_id, bets, stake)
SELECT match_id, count(*), sum(stake) FROM bets WHERE type = 'single' GROUP BY match_id;

-- Moves every committed change into the totals. Returns how many change rows
-- it folded, or NULL when `wait` is false and another fold is running (the
-- totals' upserts take row locks in no fixed order, so two folds at once could
-- deadlock; the lock is per schema, as the tests run one per schema).
-- Changes committed while it runs stay for the next fold: DELETE takes only
-- the rows its snapshot sees.
CREATE FUNCTION fold_bet_total_changes(wait boolean) RETURNS bigint LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
DECLARE
  lock_key constant bigint := hashtextextended('betsdb.fold_bet_total_changes.' || current_schema(), 0);
  folded bigint;
BEGIN
  IF wait THEN
    PERFORM pg_advisory_xact_lock(lock_key);
  ELSIF NOT pg_try_advisory_xact_lock(lock_key) THEN
    RETURN NULL;
  END IF;
  WITH moved AS (
    DELETE FROM bet_total_changes RETURNING type, match_id, selection, status, bets, stake
  ), overall AS (
    INSERT INTO bet_totals AS t (type, selection, status, bets, stake)
    SELECT type, coalesce(selection, ''), status, sum(bets), sum(stake)
    FROM moved GROUP BY type, coalesce(selection, ''), status
    ON CONFLICT (type, selection, status)
      DO UPDATE SET bets = t.bets + excluded.bets, stake = t.stake + excluded.stake
  ), per_match AS (
    INSERT INTO match_bet_totals AS t (match_id, bets, stake)
    SELECT match_id, sum(bets), sum(stake)
    FROM moved WHERE type = 'single' GROUP BY match_id
    HAVING sum(bets) <> 0 OR sum(stake) <> 0
    ON CONFLICT (match_id)
      DO UPDATE SET bets = t.bets + excluded.bets, stake = t.stake + excluded.stake
  )
  SELECT count(*) INTO folded FROM moved;
  RETURN folded;
END $$;
