-- History: what migration 004 then adopted; kept to reproduce docs/performance.md.
-- bench/settle_legs.sh --what-if: a candidate fix for settling many
-- accumulator legs, tried on the seeded copy only (not a migration).
-- Settling a leg changes only bet_legs.status, which no index covers, so the
-- update can be HOT (no new entries in bet_legs' three indexes) when the
-- leg's page has room for the new row version. Tables filled by appends have
-- none (fillfactor 100). Leave a quarter of each page free and rewrite the
-- table so the existing pages get it too.
ALTER TABLE bet_legs SET (fillfactor = 70);
VACUUM FULL bet_legs;
ANALYZE bet_legs;
