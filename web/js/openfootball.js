// Reads a season file in the openfootball JSON shape
// ({name, matches: [{date: "2025-08-15", time: "20:00", team1, team2, score: {ft: [4, 2]}}]})
// and plans the matches to create: teams, an RFC 3339 date, odds, and the
// result the file records. Pure functions, no I/O.

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_TIME = '15:00'; // some files omit the kick-off time
const DRAW_PROBABILITY = 0.26; // roughly the share of draws in a football league
const HOME_ADVANTAGE = 1.2;
const BOOKMAKER_MARGIN = 1.06; // odds are priced 6% short of fair
const STRENGTH_FLOOR = 0.5; // keeps a winless team's odds finite
const AVERAGE_POINTS_PER_GAME = 1.35;
const MIN_ODDS = 1.01;
const MAX_ODDS = 1000;

export class SeasonFormatError extends Error {}

function resultOf(ft) {
  if (!Array.isArray(ft) || ft.length !== 2 || !ft.every(Number.isInteger)) return null;
  if (ft[0] > ft[1]) return '1';
  if (ft[0] < ft[1]) return '2';
  return 'X';
}

// {name, fixtures: [{team1, team2, kickoff: Date, result}], skipped: [reasons]}.
// Kick-off times have no zone in the files; they are read as UTC.
export function parseSeason(data) {
  if (!data || typeof data !== 'object' || !Array.isArray(data.matches)) {
    throw new SeasonFormatError('This is not an openfootball season file: it has no "matches" list.');
  }
  const fixtures = [];
  const skipped = [];
  data.matches.forEach((m, i) => {
    const where = `match ${i + 1}`;
    const team1 = typeof m?.team1 === 'string' ? m.team1.trim() : '';
    const team2 = typeof m?.team2 === 'string' ? m.team2.trim() : '';
    if (!team1 || !team2) return skipped.push(`${where}: no team names`);
    if (team1.toLowerCase() === team2.toLowerCase()) return skipped.push(`${where}: a team plays itself`);
    if (typeof m.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(m.date)) return skipped.push(`${where}: no date`);
    const time = typeof m.time === 'string' && /^\d{2}:\d{2}$/.test(m.time) ? m.time : DEFAULT_TIME;
    const kickoff = new Date(`${m.date}T${time}:00Z`);
    if (Number.isNaN(kickoff.getTime())) return skipped.push(`${where}: bad date ${m.date} ${time}`);
    const postponed = m.status === 'postponed' || m.status === 'cancelled';
    fixtures.push({ team1, team2, kickoff, result: postponed ? null : resultOf(m.score?.ft) });
    return undefined;
  });
  if (!fixtures.length) throw new SeasonFormatError('The file has no usable matches.');
  // competition: the file's name as a match's competition (trimmed, cut to
  // 100 characters, as `betsdb import` sets it); null when it has none.
  // eslint-disable-next-line no-control-regex
  const named = typeof data.name === 'string' ? data.name.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim() : '';
  return { name: named || 'Season', competition: named ? [...named].slice(0, 100).join('') : null, fixtures, skipped };
}

// Whole days to add so the earliest fixture starts at least `leadDays` after
// `now`; 0 when it already does. Whole days keep weekdays' kick-off times.
export function shiftDaysFor(fixtures, now, leadDays = 1) {
  const first = Math.min(...fixtures.map((f) => f.kickoff.getTime()));
  const wanted = now.getTime() + leadDays * DAY_MS;
  return first >= wanted ? 0 : Math.ceil((wanted - first) / DAY_MS);
}

// Points per game for every team, from the results in the file.
export function teamStrengths(fixtures) {
  const table = new Map();
  const row = (team) => table.get(team) ?? table.set(team, { points: 0, games: 0 }).get(team);
  for (const f of fixtures) {
    if (!f.result) continue;
    const home = row(f.team1);
    const away = row(f.team2);
    home.games += 1;
    away.games += 1;
    if (f.result === '1') home.points += 3;
    else if (f.result === '2') away.points += 3;
    else {
      home.points += 1;
      away.points += 1;
    }
  }
  const strengths = new Map();
  for (const [team, { points, games }] of table) strengths.set(team, games ? points / games : AVERAGE_POINTS_PER_GAME);
  return strengths;
}

function priced(probability) {
  const odds = Math.floor(100 / (probability * BOOKMAKER_MARGIN)) / 100;
  return Math.min(MAX_ODDS, Math.max(MIN_ODDS, odds));
}

// Plausible decimal odds from the two teams' form in the file: a fixed draw
// share, the rest split by strength with a home advantage, minus a margin.
export function oddsFor(fixture, strengths) {
  const home = ((strengths.get(fixture.team1) ?? AVERAGE_POINTS_PER_GAME) + STRENGTH_FLOOR) * HOME_ADVANTAGE;
  const away = (strengths.get(fixture.team2) ?? AVERAGE_POINTS_PER_GAME) + STRENGTH_FLOOR;
  const p1 = ((1 - DRAW_PROBABILITY) * home) / (home + away);
  const p2 = ((1 - DRAW_PROBABILITY) * away) / (home + away);
  return { 1: priced(p1), X: priced(DRAW_PROBABILITY), 2: priced(p2) };
}

function rfc3339(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// The matches to create: [{team_1, team_2, date, odds, result}], in the
// file's order, dates moved by `shiftDays`.
export function planImport(season, { shiftDays = 0 } = {}) {
  const strengths = teamStrengths(season.fixtures);
  return season.fixtures.map((f) => ({
    team_1: f.team1,
    team_2: f.team2,
    date: rfc3339(new Date(f.kickoff.getTime() + shiftDays * DAY_MS)),
    odds: oddsFor(f, strengths),
    result: f.result,
  }));
}
