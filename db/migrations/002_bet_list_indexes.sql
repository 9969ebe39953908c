-- Indexes for the bet lists (docs/performance.md has the plans at 1M bets).
-- A user's list, newest first (the default), walks the user's index entries
-- in order and stops at the page; other sorts of a user's few bets sort in memory.
CREATE INDEX bets_user_created_idx ON bets (user_id, created_at DESC, id DESC);
-- The admin's list, newest first, without a filter: an ordered index scan.
CREATE INDEX bets_created_idx ON bets (created_at DESC, id DESC);
