-- search (issue 23, "Discovery"): :matches open matches for GET
-- /v1/matches?q=..., written in SQL (the API would take minutes), plus the
-- list of search terms the scenario draws from.
--
-- Names: 300 towns (30 roots x 10 endings: "Ashford", "Uxminster"), each
-- with two of 16 club styles ("Ashford Rovers", "Real Ashford"): 600 teams.
-- How often a town plays falls with its rank, as 1 / (rank + 10)^2 (the
-- ranks a hash permutation of the towns), so the most-played town is in
-- about 8% of the matches and the least-played in a few dozen: a 3-letter
-- term matches anywhere from a few dozen matches (a rare town's own
-- letters) to most of the table ("lea" of "League"). Competitions: 10
-- regions x 5 tiers ("Coastal League One") = 50 leagues, by season
-- ("2026/27"), a match's league that of its home town; 1 match in 10 has
-- none (a friendly). Dates: one every 365 days / :matches, from an hour
-- from now, so all are open for betting; 1 in 25 is suspended.
--
-- Idempotent: the matches carry source_key 'bench-search:N' (the column
-- `betsdb import` keys its fixtures by; never rendered), so a second run
-- inserts only what is missing, and nothing when all :matches are there.
-- They are written without triggers (replica role): their outbox rows would
-- be :matches stream events for the server to publish during the run; the
-- exposure row each match gets from its trigger is inserted here instead.
--
-- Then the terms: bench_search.terms holds every distinct 2 .. 8-character
-- substring of the seeded teams' and competitions' names (lower case, no
-- leading or trailing space: the API trims them), in a fixed pseudo-random
-- order, numbered from 0, with its LIKE pattern (for the pgbench ceiling).
-- psql variables: matches.
SET client_min_messages = warning;

SELECT count(*) AS seeded_before FROM matches WHERE source_key LIKE 'bench-search:%' \gset
SELECT :seeded_before < :matches AS need_seed \gset

\if :need_seed
BEGIN;
SET LOCAL session_replication_role = replica;

CREATE TEMP TABLE s_roots (n, root) AS
SELECT n - 1, root FROM unnest(ARRAY[
  'Ash', 'Bram', 'Carr', 'Dun', 'Elm', 'Fair', 'Glen', 'Hart', 'Ivel', 'Kings',
  'Lang', 'March', 'Nor', 'Oak', 'Pen', 'Quen', 'Ross', 'Salt', 'Thorn', 'Ux',
  'Vale', 'Wex', 'Yar', 'Bel', 'Cal', 'Dor', 'Esk', 'Fen', 'Gran', 'Hal'])
  WITH ORDINALITY AS r (root, n);
CREATE TEMP TABLE s_endings (n, ending) AS
SELECT n - 1, ending FROM unnest(ARRAY[
  'ford', 'ton', 'bury', 'wick', 'field', 'mouth', 'ley', 'ham', 'stead', 'minster'])
  WITH ORDINALITY AS e (ending, n);
CREATE TEMP TABLE s_styles (n, style) AS
SELECT n - 1, style FROM unnest(ARRAY[
  '% United', '% City', '% Rovers', '% Athletic', '% Wanderers', 'FC %', '% Town', '% Albion',
  'Real %', 'Sporting %', 'Dynamo %', 'Inter %', '% Hotspur', 'AC %', '% Rangers', 'Olympic %'])
  WITH ORDINALITY AS s (style, n);
CREATE TEMP TABLE s_leagues (n, league) AS
SELECT (r.n - 1) * 5 + (t.n - 1), r.region || ' ' || t.tier
FROM unnest(ARRAY['Northern', 'Southern', 'Eastern', 'Western', 'Central', 'Coastal', 'Highland',
                  'Lowland', 'Island', 'Metropolitan']) WITH ORDINALITY AS r (region, n)
CROSS JOIN unnest(ARRAY['Premier League', 'Championship', 'League One', 'League Two',
                        'National League']) WITH ORDINALITY AS t (tier, n);

-- Town t (0 .. 299) has popularity rank rk (a permutation of 0 .. 299).
CREATE TEMP TABLE s_towns AS
SELECT row_number() OVER (ORDER BY md5('town' || t)) - 1 AS rk, t, name
FROM (SELECT r.n * 10 + e.n AS t, r.root || e.ending AS name
      FROM s_roots r CROSS JOIN s_endings e) AS x;
CREATE UNIQUE INDEX ON s_towns (rk);
-- Team (t, k): town t in its style k (0 or 1).
CREATE TEMP TABLE s_teams AS
SELECT tw.rk, k, replace(st.style, '%', tw.name) AS team, tw.t % 50 AS league
FROM s_towns tw CROSS JOIN (VALUES (0), (1)) AS kk (k)
JOIN s_styles st ON st.n = CASE k WHEN 0 THEN tw.t % 16 ELSE (tw.t * 7 + 3) % 16 END;
CREATE UNIQUE INDEX ON s_teams (rk, k);
ANALYZE s_towns;
ANALYZE s_teams;

-- Per match i: three uniform numbers in [0, 1) from md5, the home and away
-- towns' ranks drawn with weight 1 / (rank + 10)^2 (the inverse of its
-- distribution function), the away side moved on by one when it drew the
-- home side's town.
INSERT INTO matches (team_1, team_2, starts_at, odds_1, odds_x, odds_2, status, competition, source_key)
SELECT h.team, a.team, d.starts_at,
       120 + (d.x % 400), 280 + (d.x / 400 % 150), 120 + (d.x / 60000 % 500),
       CASE WHEN d.i % 25 = 0 THEN 'suspended' ELSE 'open' END,
       CASE WHEN d.i % 10 = 3 THEN NULL
            ELSE l.league || ' ' || d.season || '/' || lpad(((d.season + 1) % 100)::text, 2, '0') END,
       'bench-search:' || d.i
FROM (SELECT i, u.*, p.starts_at,
             extract(year FROM p.starts_at - interval '6 months')::int AS season,
             floor(1.0 / (0.1 - u.u1 * (0.1 - 1.0 / 310)) - 10)::int AS rk1,
             floor(1.0 / (0.1 - u.u2 * (0.1 - 1.0 / 310)) - 10)::int AS rk2
      FROM generate_series(1, :matches) AS i
      CROSS JOIN LATERAL (
        SELECT ('x' || substr(md5('m' || i), 1, 8))::bit(32)::bigint / 4294967296.0 AS u1,
               ('x' || substr(md5('m' || i), 9, 8))::bit(32)::bigint / 4294967296.0 AS u2,
               ('x' || substr(md5('m' || i), 17, 8))::bit(32)::bigint AS x) AS u
      CROSS JOIN LATERAL (
        SELECT date_trunc('minute', now()) + interval '1 hour'
               + (i - 1) * (interval '365 days' / :matches) AS starts_at) AS p) AS d
JOIN s_teams h ON h.rk = least(d.rk1, 299) AND h.k = d.x % 2
JOIN s_teams a ON a.rk = (CASE WHEN least(d.rk2, 299) = least(d.rk1, 299) THEN least(d.rk1, 299) + 1
                               ELSE least(d.rk2, 299) END) % 300
              AND a.k = d.x / 2 % 2
JOIN s_leagues l ON l.n = h.league
ON CONFLICT DO NOTHING;

INSERT INTO match_exposure (match_id)
SELECT id FROM matches WHERE source_key LIKE 'bench-search:%'
ON CONFLICT DO NOTHING;
COMMIT;

VACUUM ANALYZE matches;
VACUUM ANALYZE match_exposure;
\endif

CREATE SCHEMA IF NOT EXISTS bench_search;
DROP TABLE IF EXISTS bench_search.terms;
CREATE TABLE bench_search.terms AS
WITH names AS (
  SELECT lower(team_1) AS s FROM matches WHERE source_key LIKE 'bench-search:%'
  UNION SELECT lower(team_2) FROM matches WHERE source_key LIKE 'bench-search:%'
  UNION SELECT lower(competition) FROM matches
        WHERE source_key LIKE 'bench-search:%' AND competition IS NOT NULL
), subs AS (
  SELECT DISTINCT substr(s, p, l) AS term
  FROM names CROSS JOIN generate_series(2, 8) AS l
  CROSS JOIN LATERAL generate_series(1, length(s) - l + 1) AS p
)
SELECT (row_number() OVER (ORDER BY md5('term' || term), term) - 1)::int AS n, term,
       '%' || replace(replace(replace(term, '\', '\\'), '%', '\%'), '_', '\_') || '%' AS pattern
FROM subs WHERE term !~ '^\s|\s$';
ALTER TABLE bench_search.terms ADD PRIMARY KEY (n);
ANALYZE bench_search.terms;

-- How many matches a term finds, about: the matches of every name that
-- contains it, summed (a match counted once per name of it that does: an
-- upper bound, exact for a term found in one field only). One pass over the
-- few hundred names, where counting each term in the table would take a
-- query per term.
CREATE TEMP TABLE s_names AS
SELECT s, sum(n) AS uses FROM (
  SELECT lower(team_1) AS s, count(*) AS n FROM matches WHERE source_key LIKE 'bench-search:%' GROUP BY 1
  UNION ALL SELECT lower(team_2), count(*) FROM matches WHERE source_key LIKE 'bench-search:%' GROUP BY 1
  UNION ALL SELECT lower(competition), count(*) FROM matches
            WHERE source_key LIKE 'bench-search:%' AND competition IS NOT NULL GROUP BY 1) AS x
GROUP BY s;
CREATE TEMP TABLE s_hits AS
SELECT t.term, length(t.term) AS len, least(sum(n.uses), :matches) AS hits
FROM bench_search.terms t JOIN s_names n ON strpos(n.s, t.term) > 0
GROUP BY t.term;

SELECT count(*) AS matches_total FROM matches \gset
SELECT count(*) AS search_matches FROM matches WHERE source_key LIKE 'bench-search:%' \gset
SELECT count(*) FILTER (WHERE competition IS NOT NULL) AS with_competition,
       count(*) FILTER (WHERE status = 'open') AS open_matches,
       count(DISTINCT team_1) AS home_teams, count(DISTINCT competition) AS competitions
FROM matches WHERE source_key LIKE 'bench-search:%' \gset
SELECT sum(c) AS terms, string_agg(l || ':' || c, ' ' ORDER BY l) AS terms_by_length
FROM (SELECT length(term) AS l, count(*) AS c FROM bench_search.terms GROUP BY length(term)) AS x \gset
SELECT min(hits) AS three_min, percentile_disc(0.5) WITHIN GROUP (ORDER BY hits) AS three_median,
       max(hits) AS three_max, count(*) AS three_terms FROM s_hits WHERE len = 3 \gset
SELECT round(pg_relation_size('matches_search_idx') / 1048576.0, 1) AS index_mb,
       round(pg_relation_size('matches') / 1048576.0, 1) AS table_mb \gset
-- The terms EXPLAIN looks at (letters only): the 3-letter term of most
-- matches, the 3-letter term of fewest, the 2-letter term of most matches
-- (no trigram: the index cannot narrow it down), and the 6 .. 8-letter term
-- of fewest; each with its exact count.
SELECT term AS common3 FROM s_hits WHERE len = 3 AND term ~ '^[a-z]+$' ORDER BY hits DESC, term LIMIT 1 \gset
SELECT term AS rare3 FROM s_hits WHERE len = 3 AND term ~ '^[a-z]+$' ORDER BY hits, term LIMIT 1 \gset
SELECT term AS common2 FROM s_hits WHERE len = 2 AND term ~ '^[a-z]+$' ORDER BY hits DESC, term LIMIT 1 \gset
SELECT term AS rare FROM s_hits WHERE len >= 6 AND term ~ '^[a-z]+$' ORDER BY hits, term LIMIT 1 \gset
SELECT count(*) AS common3_hits FROM matches WHERE search_text LIKE '%' || :'common3' || '%' \gset
SELECT count(*) AS rare3_hits FROM matches WHERE search_text LIKE '%' || :'rare3' || '%' \gset
SELECT count(*) AS common2_hits FROM matches WHERE search_text LIKE '%' || :'common2' || '%' \gset
SELECT count(*) AS rare_hits FROM matches WHERE search_text LIKE '%' || :'rare' || '%' \gset

\echo seeded_before :seeded_before
\echo matches_total :matches_total
\echo search_matches :search_matches
\echo with_competition :with_competition
\echo open_matches :open_matches
\echo home_teams :home_teams
\echo competitions :competitions
\echo terms :terms
\echo terms_by_length :terms_by_length
\echo three_letter_hits_about :three_terms :three_min :three_median :three_max
\echo index_mb :index_mb
\echo table_mb :table_mb
\echo explain_common3 :common3 :common3_hits
\echo explain_rare3 :rare3 :rare3_hits
\echo explain_common2 :common2 :common2_hits
\echo explain_rare :rare :rare_hits
