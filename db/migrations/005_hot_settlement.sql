-- Settling a bet (or cashing it out) changes its row once: status,
-- settled_at, maybe cash_out_amount. PostgreSQL can make that update HOT
-- (a new row version on the same page, no new entry in any index) only when
-- no column an index holds or filters on changes, and when the page has room.
-- Before this migration `status` was in three index predicates, so every
-- settled bet wrote a new entry into each of bets' five indexes: settling a
-- match with 100,000 lost accumulators spent a second there
-- (docs/performance.md, "Settling accumulator legs").

-- Room: every bet is updated once in its life, and one settlement may finish
-- every bet of a page (bets placed together on one match), so half of each
-- page is kept for that one new version. Adding the column below rewrites the
-- table, so existing pages get the room too.
ALTER TABLE bets SET (fillfactor = 50);

-- The singles' duplicate guard filtered on status <> 'void'. It filters on
-- this column instead, whose value changes only when a bet becomes void (a
-- void result), so won and lost stay HOT.
ALTER TABLE bets
  ADD COLUMN holds_selection boolean GENERATED ALWAYS AS (status <> 'void') STORED;
DROP INDEX bets_one_live_per_selection;
CREATE UNIQUE INDEX bets_one_live_per_selection
  ON bets (user_id, match_id, selection) WHERE match_id IS NOT NULL AND holds_selection;

-- Settlement finds a match's singles by match; the settled ones it also
-- reads are that match's bets only.
DROP INDEX bets_match_pending_idx;
CREATE INDEX bets_match_idx ON bets (match_id) WHERE match_id IS NOT NULL;

-- The accumulators' duplicate guard (one pending accumulator per user and
-- set of legs) moves to a table of its own: a row per pending accumulator,
-- deleted in the transaction that settles or cashes it out. The constraint
-- keeps the index's name, which the server maps to duplicate_bet.
DROP INDEX bets_one_pending_accumulator;
CREATE TABLE pending_accumulators (
  bet_id   bigint PRIMARY KEY REFERENCES bets (id),
  user_id  bigint NOT NULL,
  legs_key text   NOT NULL,
  CONSTRAINT bets_one_pending_accumulator UNIQUE (user_id, legs_key)
);
INSERT INTO pending_accumulators (bet_id, user_id, legs_key)
SELECT id, user_id, legs_key FROM bets WHERE type = 'accumulator' AND status = 'pending';
