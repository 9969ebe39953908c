-- Discovery (API.md Part 2): a match's competition; matches found by a
-- substring of their teams or competition (`q`); users found by the start of
-- their email or a part of their name (support looking someone up). And the
-- identity of an imported fixture, so `betsdb import` of the same file maps to
-- the same matches every time.
--
-- pg_trgm (shipped with PostgreSQL, a trusted extension) indexes substrings:
-- a LIKE '%ars%' is answered from the trigram index instead of reading every row.
-- An extension lives in one schema per database, maybe installed before us
-- in another: it is created in public when missing, and its operator class
-- is named with its schema below, whatever this connection's search_path
-- (the tests migrate private schemas of one database).
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

ALTER TABLE matches
  ADD COLUMN competition text CONSTRAINT matches_competition_length
    CHECK (char_length(competition) BETWEEN 1 AND 100),
  -- What `q` is matched against, kept with the row so a search neither
  -- recomputes it per row nor needs a differently written expression to use
  -- the index. A newline cannot appear in a name, so no substring spans two fields.
  ADD COLUMN search_text text GENERATED ALWAYS AS (
    lower(team_1 || E'\n' || team_2 || E'\n' || coalesce(competition, ''))) STORED,
  -- `betsdb import`: the fixture's identity in its file (NULL for matches
  -- created otherwise).
  ADD COLUMN source_key text CONSTRAINT matches_source_key_key UNIQUE;

CREATE INDEX matches_competition_idx ON matches (lower(competition));

-- Emails are stored lower-cased, so a prefix search is a plain LIKE 'q%' on
-- this index; names are searched anywhere in them, ignoring case.
CREATE INDEX users_email_prefix_idx ON users (email text_pattern_ops);

DO $$
DECLARE
  trgm name := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                WHERE e.extname = 'pg_trgm');
BEGIN
  EXECUTE format('CREATE INDEX matches_search_idx ON matches USING gin (search_text %I.gin_trgm_ops)', trgm);
  EXECUTE format('CREATE INDEX users_name_search_idx ON users USING gin (lower(name) %I.gin_trgm_ops)', trgm);
END
$$;

-- The shift `betsdb import --shift-to-future` chose on a file's first import,
-- reused by every later run of that file so each fixture keeps its date.
CREATE TABLE import_shifts (
  source     text        PRIMARY KEY,
  shift_days integer     NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
