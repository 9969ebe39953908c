// Operator: import a season file (openfootball JSON) as matches of its
// competition (the file's name), optionally moving its dates into the future
// for a demo, with progress; then, when asked, enter the file's full-time
// results as settlements. Importing a file again finds the matches it made:
// the dates move by the same days as the first time (read back from the
// competition's matches), so the server refuses each as a duplicate. Results
// are never entered for a match that has not kicked off, unless the operator
// ticks the separate force option.
import * as api from '../api.js';
import { field, h } from '../dom.js';
import { errorBox, messageFor, statusBox } from '../errors.js';
import { formatDateTime } from '../format.js';
import { formatMoney } from '../money.js';
import { SeasonFormatError, parseSeason, planImport, shiftDaysFor } from '../openfootball.js';
import { lastImport, saveLastImport } from '../session.js';

// A few requests at a time: quick, without flooding a small server.
const CONCURRENCY = 4;
const MAX_LISTED_FAILURES = 5;
const MAX_FILE_BYTES = 5 * 1024 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;
const LIST_PAGE_MAX = 100;
const EXISTING_MAX = 2000; // matches of one competition read back at most

// The whole days a former import of this season moved its dates by: the
// competition's matches, read back, against the file's fixtures (same teams).
// null when none was imported (or the server cannot say).
async function formerShift(season) {
  if (!season.competition) return null;
  const key = (a, b) => `${a.trim().toLowerCase()}|${b.trim().toLowerCase()}`;
  const fixtures = new Map(season.fixtures.map((f) => [key(f.team1, f.team2), f]));
  try {
    for (let offset = 0; offset < EXISTING_MAX; offset += LIST_PAGE_MAX) {
      const page = await api.listMatches({ competition: season.competition, limit: LIST_PAGE_MAX, offset });
      for (const m of page.items) {
        const f = fixtures.get(key(m.team_1, m.team_2));
        if (!f) continue;
        const days = (Date.parse(m.date) - f.kickoff.getTime()) / DAY_MS;
        if (Number.isInteger(days) && days >= 0) return days;
      }
      if (offset + page.items.length >= page.total || !page.items.length) return null;
    }
  } catch {
    return null;
  }
  return null;
}

// Runs `work` over `items` with a bounded number in flight, reporting progress.
async function runAll(items, work, onProgress) {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
      done += 1;
      onProgress(done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

// The id of an existing match with these teams and date (after a 409).
async function findExisting(plan) {
  const page = await api.listMatches({ team: plan.team_1, from: plan.date, to: plan.date, limit: 100 });
  const same = (a, b) => a.trim().toLowerCase() === b.trim().toLowerCase();
  return page.items.find((m) => same(m.team_1, plan.team_1) && same(m.team_2, plan.team_2))?.id ?? null;
}

function progressBar(label) {
  const bar = h('progress', { max: 1, value: 0, 'aria-label': label });
  const text = h('span', { class: 'progress-text', 'aria-live': 'polite' });
  return {
    el: h('div', { class: 'progress', hidden: true }, bar, text),
    set(done, total) {
      this.el.hidden = false;
      bar.max = Math.max(1, total);
      bar.value = done;
      text.textContent = `${done} / ${total}`;
    },
  };
}

export function render(section, { token }) {
  let season = null; // parsed file
  let sourceName = '';

  const bundled = h('select', { name: 'bundled' }, h('option', { value: '', text: 'Loading…' }));
  const loadBundled = h('button', { type: 'button', class: 'secondary', text: 'Load' });
  const file = h('input', { type: 'file', name: 'file', accept: '.json,application/json' });
  const shift = h('input', { type: 'checkbox', name: 'shift', checked: true });
  const applyAfter = h('input', { type: 'checkbox', name: 'apply_results' });
  const force = h('input', { type: 'checkbox', name: 'force_before_kickoff' });
  const fileError = errorBox();
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  const importButton = h('button', { type: 'button', class: 'primary', text: 'Import matches', disabled: true });
  const importProgress = progressBar('Import progress');
  const importStatus = statusBox();
  const importError = errorBox();
  const resultsButton = h('button', { type: 'button', class: 'secondary', text: 'Apply results from the file' });
  const resultsProgress = progressBar('Results progress');
  const resultsStatus = statusBox();
  const resultsError = errorBox();

  section.append(
    h('p', {}, 'Load a season file in the openfootball JSON format (', h('code', { text: 'matches[].date, time, team1, team2, score.ft' }), '). Kick-off times are read as UTC; odds are priced from each team’s results in the file.'),
    h(
      'div',
      { class: 'card form' },
      h('h3', { text: '1. Choose a file' }),
      h('div', { class: 'inline' }, field('Bundled demo file', bundled), loadBundled),
      field('Or a file from this device', file),
      fileError.el,
      preview,
    ),
    h(
      'div',
      { class: 'card form' },
      h('h3', { text: '2. Import' }),
      h('div', { class: 'check' }, shift, h('label', { for: (shift.id = 'import-shift'), text: 'Move the dates into the future for a demo (first match tomorrow, same spacing)' })),
      h('div', { class: 'check' }, applyAfter, h('label', { for: (applyAfter.id = 'import-apply'), text: 'Then enter the file’s results as settlements' })),
      importButton,
      importProgress.el,
      importStatus.el,
      importError.el,
    ),
    h(
      'div',
      { class: 'card form' },
      h('h3', { text: '3. Results' }),
      h('p', { class: 'muted', text: 'Settles each imported match that has kicked off with its full-time result from the file (matches without a score are left open).' }),
      h(
        'div',
        { class: 'check force-check' },
        force,
        h('label', { for: (force.id = 'import-force') }, h('strong', { text: 'Force: also settle matches that have NOT kicked off yet.' }), ' Pays out on the file’s results before those matches are played; only for a demo.'),
      ),
      resultsButton,
      resultsProgress.el,
      resultsStatus.el,
      resultsError.el,
    ),
  );

  shift.addEventListener('change', () => showPreview());

  // The days a former import moved this season by (null: never imported).
  let former = null;

  function plan() {
    const shiftDays = shift.checked ? (former ?? shiftDaysFor(season.fixtures, new Date())) : 0;
    return { shiftDays, matches: planImport(season, { shiftDays }).map((m) => ({ ...m, competition: season.competition })) };
  }

  function showPreview() {
    if (!season) return;
    const { shiftDays, matches } = plan();
    const dates = matches.map((m) => m.date).sort();
    const withResults = matches.filter((m) => m.result).length;
    const moved = shiftDays ? ` (moved ${shiftDays} days forward${former !== null ? ', as when it was first imported' : ''})` : '';
    preview.replaceChildren(
      h('p', { class: 'preview-line' }, h('strong', { text: season.name }), ` (${sourceName}): ${matches.length} matches, ${withResults} with a result, from ${formatDateTime(dates[0])} to ${formatDateTime(dates[dates.length - 1])}${moved}.`),
      season.skipped.length ? h('p', { class: 'muted', text: `Skipped ${season.skipped.length}: ${season.skipped.slice(0, 3).join('; ')}` }) : '',
    );
    importButton.disabled = false;
    importButton.textContent = `Import ${matches.length} matches`;
  }

  let reads = 0; // a file chosen while another is read wins
  async function useData(data, name) {
    fileError.clear();
    preview.replaceChildren();
    importButton.disabled = true;
    const mine = ++reads;
    try {
      const parsed = parseSeason(data);
      const shiftBefore = await formerShift(parsed);
      if (mine !== reads) return;
      season = parsed;
      former = shiftBefore;
      sourceName = name;
      showPreview();
    } catch (err) {
      season = null;
      fileError.show(err instanceof SeasonFormatError ? err.message : `Could not read the file: ${err.message}`);
    }
  }

  file.addEventListener('change', async () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    if (chosen.size > MAX_FILE_BYTES) {
      fileError.show('That file is too large for a season file.');
      return;
    }
    let data;
    try {
      data = JSON.parse(await chosen.text());
    } catch {
      fileError.show('That file is not valid JSON.');
      return;
    }
    useData(data, chosen.name);
  });

  loadBundled.addEventListener('click', async () => {
    if (!bundled.value) return;
    try {
      useData(await api.fixtureFile(bundled.value), bundled.value.split('/').pop());
    } catch (err) {
      fileError.show(err);
    }
  });

  (async () => {
    try {
      const list = await api.fixtureList();
      bundled.replaceChildren(...list.map((f) => h('option', { value: f.path, text: f.name || f.file })));
      if (!list.length) bundled.append(h('option', { value: '', text: 'None shipped' }));
    } catch {
      bundled.replaceChildren(h('option', { value: '', text: 'None available' }));
    }
  })();

  importButton.addEventListener('click', async () => {
    if (!season) return;
    importError.clear();
    importStatus.clear();
    importButton.disabled = true;
    const { matches } = plan();
    const counts = { created: 0, existing: 0, failed: 0 };
    const failures = [];
    const imported = [];
    importProgress.set(0, matches.length);
    await runAll(
      matches,
      async (m) => {
        const label = `${m.team_1} v ${m.team_2}`;
        try {
          const body = { team_1: m.team_1, team_2: m.team_2, date: m.date, odds: m.odds };
          if (m.competition) body.competition = m.competition;
          const created = await api.createMatch(token, body);
          counts.created += 1;
          imported.push({ id: created.id, result: m.result, label, date: created.date });
        } catch (err) {
          const id = err.code === 'duplicate_match' ? await findExisting(m).catch(() => null) : null;
          if (id) {
            counts.existing += 1;
            imported.push({ id, result: m.result, label, date: m.date });
          } else {
            counts.failed += 1;
            failures.push(`${label}: ${messageFor(err)}`);
          }
        }
      },
      (done, total) => importProgress.set(done, total),
    );
    saveLastImport({ name: season.name, matches: imported });
    // A second import of this file moves its dates by the same days.
    if (shift.checked && former === null && counts.created) former = plan().shiftDays;
    importStatus.show(`Import finished: ${counts.created} created, ${counts.existing} already there, ${counts.failed} failed.`);
    if (failures.length) importError.show(`Failed: ${failures.slice(0, MAX_LISTED_FAILURES).join('; ')}${failures.length > MAX_LISTED_FAILURES ? '; …' : ''}`);
    importButton.disabled = false;
    if (applyAfter.checked) await applyResults();
  });

  async function applyResults() {
    resultsError.clear();
    resultsStatus.clear();
    const last = lastImport();
    const todo = (last?.matches ?? []).filter((m) => m.result);
    if (!todo.length) {
      resultsError.show(last ? 'The imported matches have no results in the file.' : 'Import a file first.');
      return;
    }
    resultsButton.disabled = true;
    const counts = { settled: 0, conflicting: 0, failed: 0, won: 0, lost: 0, paid: 0, future: 0 };
    const failures = [];
    const forced = force.checked;
    resultsProgress.set(0, todo.length);
    await runAll(
      todo,
      async (m) => {
        try {
          // Not kicked off yet: left open unless forced. (An import saved
          // before dates were kept: the match is read for its date.)
          const date = m.date ?? (await api.getMatch(m.id)).date;
          if (!forced && Date.parse(date) > Date.now()) {
            counts.future += 1;
            return;
          }
          const answer = await api.settleMatch(token, m.id, m.result);
          counts.settled += 1;
          counts.won += answer.settled.won;
          counts.lost += answer.settled.lost;
          counts.paid += answer.settled.paid_out;
        } catch (err) {
          if (err.code === 'already_settled') counts.conflicting += 1;
          else {
            counts.failed += 1;
            failures.push(`${m.label}: ${messageFor(err)}`);
          }
        }
      },
      (done, total) => resultsProgress.set(done, total),
    );
    resultsStatus.show(
      `Results entered for ${counts.settled} matches (${counts.won} winning and ${counts.lost} losing bets, ${formatMoney(counts.paid)} paid out); ${counts.conflicting} already had another result; ${counts.failed} failed` +
        (counts.future ? `; ${counts.future} not settled: kick-off still in the future (the force option settles them).` : '.'),
    );
    if (failures.length) resultsError.show(`Failed: ${failures.slice(0, MAX_LISTED_FAILURES).join('; ')}`);
    resultsButton.disabled = false;
  }

  resultsButton.addEventListener('click', applyResults);
}
