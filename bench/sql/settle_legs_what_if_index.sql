-- History: what migration 004 then adopted; kept to reproduce docs/performance.md.
-- On the schema of migration 005 it would put status back into an index
-- predicate of bets, and settling bets would no longer be HOT.
-- bench/settle_legs.sh --what-if: settle_legs_what_if.sql (bet_legs with
-- free room on its pages, so settling a leg is a HOT update), and also the
-- singles' unique index without the accumulators: an accumulator has no
-- match_id nor selection, so its entries there guard nothing, yet every
-- status change of an accumulator (status is in the index's predicate, so
-- the update cannot be HOT) inserts one. Same name, so the server's mapping
-- of its unique violation is unchanged. Tried on the seeded copy only.
\ir settle_legs_what_if.sql
DROP INDEX bets_one_live_per_selection;
CREATE UNIQUE INDEX bets_one_live_per_selection
  ON bets (user_id, match_id, selection) WHERE status <> 'void' AND match_id IS NOT NULL;
VACUUM ANALYZE bets;
