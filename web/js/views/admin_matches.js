// Operator: list matches with their odds and results (all, by status, or
// those waiting for a result: kicked off, not settled), change odds, suspend
// and resume betting, set a match's limits (max stake, max liability) and
// competition, see its exposure, enter a result (or void) after a
// confirmation that shows what it pays out, and create a match.
import * as api from '../api.js';
import { limitChart } from '../chart.js';
import { closeConfirm, confirmAction } from '../confirm.js';
import { append, field, h, uid } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, messageFor, showFieldErrors, statusBox } from '../errors.js';
import { formatDateTime, formatDuration, localInputToRfc3339, toLocalInput, toRfc3339 } from '../format.js';
import { formatMoney, formatOdds, parseMoney, parseOdds } from '../money.js';
import { pager } from '../pager.js';

const PAGE_SIZE = 20;
const SELECTIONS = ['1', 'X', '2'];
const OUTCOME_LABELS = { 1: '1 (home)', X: 'X (draw)', 2: '2 (away)' };
// The API's bounds, in cents.
const LIMIT_MAX = { max_stake: 100_000_000, max_liability: 1_000_000_000_000 };
const LIMIT_FIELDS = [
  ['max_stake', 'Max stake', 'Per bet. Empty: no limit.'],
  ['max_liability', 'Max liability', 'What the book may lose on one outcome. Empty: no limit.'],
];

// One money input per limit; empty means "no limit".
function limitInputs(match) {
  return LIMIT_FIELDS.map(([name, label, hint]) => {
    const value = match?.[name];
    const input = h('input', {
      type: 'text',
      inputmode: 'decimal',
      name,
      'data-field': name,
      value: Number.isInteger(value) ? formatMoney(value) : '',
      placeholder: 'no limit',
      size: 10,
      autocomplete: 'off',
    });
    return { name, input, el: field(label, input, hint) };
  });
}

// The limits typed in: {max_stake, max_liability} in cents or null, or
// {error: [input, message]} for the first one that is not an amount.
function readLimits(inputs) {
  const values = {};
  for (const { name, input } of inputs) {
    const text = input.value.trim();
    if (!text) {
      values[name] = null;
      continue;
    }
    const cents = parseMoney(text);
    if (cents === null || cents < 1 || cents > LIMIT_MAX[name]) {
      return { error: [input, `An amount from 0.01 to ${formatMoney(LIMIT_MAX[name])}, such as 50.00, or empty for no limit.`] };
    }
    values[name] = cents;
  }
  return { values };
}

const COMPETITION_MAX = 100;
// The longest wait setTimeout takes (about 24.8 days).
const MAX_TIMER_MS = 2 ** 31 - 1;
// A "waiting for a result" list reads at most this many matches per status.
const WAITING_MAX = 1000;
const LIST_PAGE_MAX = 100; // the API's largest page

// Kicked off (its date has passed), settled or not.
const kickedOff = (match) => Date.parse(match.date) <= Date.now();

// Closed for betting, so its odds, limits and competition can no longer be
// changed (the API refuses with match_closed): settled, or kicked off.
export function closedForBetting(match) {
  return match.status === 'settled' || kickedOff(match);
}

// The competition typed in: a string, null (empty: none) or {error}.
function readCompetition(input) {
  const text = input.value.trim();
  if (!text) return { value: null };
  if ([...text].length > COMPETITION_MAX) return { error: `At most ${COMPETITION_MAX} characters.` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) return { error: 'No control characters.' };
  return { value: text };
}

function competitionInput(match) {
  return h('input', {
    type: 'text',
    name: 'competition',
    'data-field': 'competition',
    maxlength: COMPETITION_MAX,
    autocomplete: 'off',
    value: match?.competition ?? '',
    placeholder: 'none',
  });
}

function statusText(match) {
  const started = new Date(match.date) <= new Date();
  if (match.status === 'settled') return `settled: ${match.result}`;
  if (match.status === 'suspended') return started ? 'suspended (started)' : 'suspended';
  return started ? 'started (closed)' : 'open';
}

// The book's liability per outcome against the match's limit, as bars with
// their figures, and the stakes and payouts behind them as a table.
function exposureView(exposure, match) {
  const limit = Number.isInteger(exposure.max_liability) ? exposure.max_liability : null;
  const bars = SELECTIONS.map((s) => {
    const value = exposure.liability?.[s] ?? 0;
    return { label: OUTCOME_LABELS[s], value, text: limit === null ? formatMoney(value) : `${formatMoney(value)} of ${formatMoney(limit)}` };
  });
  const rows = SELECTIONS.map((s) =>
    h(
      'tr',
      { 'data-selection': s },
      h('th', { scope: 'row', 'data-label': 'Outcome', text: `${s} · ${selectionName(s, match)}` }),
      h('td', { class: 'num', 'data-label': 'Stakes', text: formatMoney(exposure.stakes?.[s] ?? 0) }),
      h('td', { class: 'num', 'data-label': 'Payouts', text: formatMoney(exposure.payouts?.[s] ?? 0) }),
      h('td', { class: `num liability${limit !== null && (exposure.liability?.[s] ?? 0) > limit ? ' over' : ''}`, 'data-label': 'Liability', text: formatMoney(exposure.liability?.[s] ?? 0) }),
    ),
  );
  return [
    h(
      'p',
      { class: 'exposure-summary' },
      `${exposure.bets} pending bet${exposure.bets === 1 ? '' : 's'} · `,
      limit === null ? 'no liability limit' : `liability limit ${formatMoney(limit)}`,
    ),
    limitChart('Liability per outcome', bars, { limit, limitText: limit === null ? '' : `limit ${formatMoney(limit)}`, className: 'exposure-chart' }),
    h(
      'div',
      { class: 'table-holder' },
      h(
        'table',
        { class: 'data stack exposure-table' },
        h('caption', { class: 'visually-hidden', text: `Exposure on ${match.team_1} v ${match.team_2}` }),
        h('thead', {}, h('tr', {}, ['Outcome', 'Stakes', 'Payouts', 'Liability'].map((t, i) => h('th', { scope: 'col', class: i ? 'num' : null, text: t })))),
        h('tbody', {}, rows),
      ),
    ),
  ];
}

function selectionName(s, match) {
  if (s === 'X') return 'Draw';
  return s === '1' ? match?.team_1 || 'Team 1' : match?.team_2 || 'Team 2';
}

// Three odds inputs; blank means "not offered".
function oddsInputs(match) {
  return SELECTIONS.map((s) => {
    const input = h('input', {
      type: 'text',
      inputmode: 'decimal',
      name: `odds_${s}`,
      'data-field': `odds.${s}`,
      value: match?.odds?.[s] !== undefined ? formatOdds(match.odds[s]) : '',
      placeholder: '–',
      size: 6,
      autocomplete: 'off',
    });
    return { s, input, el: field([`${s} `, h('span', { class: 'muted small', text: `(${selectionName(s, match)})` })], input) };
  });
}

function settlementText(answer) {
  const s = answer.settled;
  return `Settled as ${answer.match.result}: ${s.won} won, ${s.lost} lost, ${s.void} void; paid out ${formatMoney(s.paid_out)}, refunded ${formatMoney(s.refunded)}.`;
}

const RESULT_TEXT = { 1: (m) => `1 – ${m.team_1} won`, X: () => 'X – draw', 2: (m) => `2 – ${m.team_2} won`, void: () => 'Void – refund every stake' };

// What settling `match` as `result` does to its pending single bets, from
// the exposure: {bets, staked, paid, refunded, winningStake}.
export function settlementPreview(exposure, result) {
  const staked = SELECTIONS.reduce((sum, s) => sum + (exposure.stakes?.[s] ?? 0), 0);
  if (result === 'void') return { bets: exposure.bets, staked, paid: 0, refunded: staked, winningStake: 0 };
  return { bets: exposure.bets, staked, paid: exposure.payouts?.[result] ?? 0, refunded: 0, winningStake: exposure.stakes?.[result] ?? 0 };
}

// "in 3 days" / "in 2 hours" until an RFC 3339 time.
function fromNow(rfc3339) {
  return `in ${formatDuration(Math.max(0, (Date.parse(rfc3339) - Date.now()) / 1000))}`;
}

// The two questions before a result is entered: what it pays out (always),
// then, for a match that has not kicked off yet, a second, explicit one.
// Resolves true when both were answered yes.
async function confirmSettlement(match, result, exposure) {
  const title = `${match.team_1} v ${match.team_2}`;
  const p = settlementPreview(exposure, result);
  const row = (label, value, cls) => [h('dt', { text: label }), h('dd', { class: cls, text: value })];
  const figures = h(
    'dl',
    { class: 'totals settle-figures' },
    row('Pending bets', String(p.bets), 'settle-bets'),
    row('Total staked', formatMoney(p.staked), 'settle-staked'),
    result === 'void' ? row('Refunded', formatMoney(p.refunded), 'settle-refunded') : row('Paid out', formatMoney(p.paid), 'settle-paid'),
  );
  const effect =
    result === 'void'
      ? `Every stake is refunded: ${formatMoney(p.refunded)} to the bettors.`
      : p.bets === 0
        ? 'There are no pending single bets on this match: nothing is paid out.'
        : `Bets on ${selectionName(result, match)} (${formatMoney(p.winningStake)} staked) win ${formatMoney(p.paid)}; every other pending bet loses.`;
  const first = await confirmAction({
    title: `Settle ${title} as ${RESULT_TEXT[result](match)}?`,
    lines: [effect, 'Accumulators with a leg on this match are settled too; they are not in these figures.', h('strong', { text: 'A result cannot be changed once entered.' })],
    body: figures,
    acceptText: result === 'void' ? 'Void the match' : `Settle as ${result}`,
    className: 'operator-confirm settle-confirm',
  });
  if (!first) return false;
  if (kickedOff(match)) return true;
  return confirmAction({
    title: 'Settle before kick-off?',
    lines: [
      ['This match has not started: kick-off is ', h('strong', { class: 'confirm-kickoff' }, h('time', { datetime: match.date, text: formatDateTime(match.date) })), ` (${fromNow(match.date)}).`],
      'Settling now closes it for betting and pays out on a result that has not been played.',
      h('strong', { text: 'Only go on if the result is certain, e.g. the match was abandoned or awarded.' }),
    ],
    acceptText: 'Yes, settle before kick-off',
    className: 'operator-confirm early-settle-confirm',
  });
}

function matchRow(initial, token) {
  let match = initial;
  let exposureOpen = false;
  let switching = false; // a suspend or resume on its way
  let kickoffTimer = null;
  const li = h('li', { class: 'card admin-match', 'data-match-id': match.id });
  const draw = (note, { focus = false } = {}) => {
    const title = `${match.team_1} v ${match.team_2}`;
    // Prices and limits can change, and the result be entered, while the
    // match is open or suspended; prices, limits and competition only until
    // kick-off (closed for betting).
    const trading = match.status === 'open' || match.status === 'suspended';
    const closed = closedForBetting(match);
    const status = statusBox();
    if (note) status.show(note);
    const closedNote = trading && closed ? h('p', { class: 'notice closed-note', text: 'Kicked off: closed for betting, so odds, limits and competition can no longer change. It waits for its result.' }) : null;
    // The moment it kicks off, the controls follow.
    clearTimeout(kickoffTimer);
    const untilKickoff = Date.parse(match.date) - Date.now();
    if (trading && !closed && untilKickoff < MAX_TIMER_MS) {
      kickoffTimer = setTimeout(() => {
        if (li.isConnected) draw();
      }, untilKickoff + 250);
    }
    // A form refused because the match closed meanwhile: show it closed.
    // The form that was used is gone with the redraw: the keyboard goes to
    // the match's heading, not back to the top of the page.
    const closedMeanwhile = (err) => {
      if (err.code !== 'match_closed') return false;
      api.getMatch(match.id).then((m) => { match = m; }).catch(() => {}).finally(() => draw(messageFor(err), { focus: true }));
      return true;
    };
    const oddsError = errorBox();
    const inputs = oddsInputs(match);
    const oddsForm = h(
      'form',
      { class: 'odds-form', 'aria-label': `Odds for ${title}` },
      h('fieldset', { disabled: !trading || closed }, h('legend', { text: 'Odds' }), h('div', { class: 'odds-fields' }, inputs.map((i) => i.el)), h('button', { type: 'submit', class: 'secondary', text: 'Save odds' })),
      oddsError.el,
    );
    oddsForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      oddsError.clear();
      clearFieldErrors(oddsForm);
      if (closedForBetting(match)) return draw();
      const change = {};
      for (const { s, input } of inputs) {
        const text = input.value.trim();
        const before = match.odds[s];
        if (!text) {
          if (before !== undefined) change[s] = null;
          continue;
        }
        const odds = parseOdds(text);
        if (odds === null) return fieldError(oddsForm, input, 'Decimal odds such as 2.10 (at most two decimals).');
        if (before === undefined || formatOdds(before) !== formatOdds(odds)) change[s] = odds;
      }
      if (!Object.keys(change).length) {
        status.show('No change to save.');
        return;
      }
      try {
        match = await api.changeOdds(token, match.id, change);
        draw('Odds saved.');
      } catch (err) {
        if (!closedMeanwhile(err)) showFieldErrors(oddsForm, err, oddsError);
      }
    });

    const resultError = errorBox();
    const resultSelect = h(
      'select',
      { name: 'result', id: uid('result') },
      h('option', { value: '', text: 'Choose…' }),
      ['1', 'X', '2', 'void'].map((r) => h('option', { value: r, text: RESULT_TEXT[r](match) })),
    );
    const resultButton = h('button', { type: 'submit', class: 'primary', text: 'Enter result' });
    const resultForm = h(
      'form',
      { class: 'result-form' },
      field(['Result', h('span', { class: 'visually-hidden', text: ` for ${title}` })], resultSelect),
      resultButton,
      resultError.el,
    );
    resultForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      resultError.clear();
      const result = resultSelect.value;
      if (!result) {
        resultError.show('Choose a result first.');
        return;
      }
      resultButton.disabled = true;
      try {
        // The figures come first: no confirmation without them.
        let exposure;
        try {
          exposure = await api.matchExposure(token, match.id);
        } catch (err) {
          resultError.show(`Could not read what this result would pay out (${messageFor(err)}). Nothing was settled.`);
          return;
        }
        if (!(await confirmSettlement(match, result, exposure))) {
          status.show('Not settled: nothing was changed.');
          resultSelect.focus();
          return;
        }
        const answer = await api.settleMatch(token, match.id, result);
        match = answer.match;
        draw(settlementText(answer), { focus: true });
      } catch (err) {
        resultError.show(err);
      } finally {
        resultButton.disabled = false;
      }
    });

    // Suspend / resume, and the exposure panel.
    const tradeError = errorBox();
    // Once per click: the answer redraws the card with the counterpart
    // (Suspend <-> Resume) where the button was, so the second click of a
    // double click, or one while the first is on its way, would undo it.
    const suspendOrResume = async (event, act, done) => {
      if (switching || event.detail > 1) return;
      switching = true;
      tradeError.clear();
      try {
        match = await act(token, match.id);
        draw(done, { focus: 'pause' });
      } catch (err) {
        tradeError.show(err);
      } finally {
        switching = false;
      }
    };
    const pauseButton =
      match.status === 'open'
        ? h('button', {
            type: 'button',
            class: 'secondary',
            text: 'Suspend',
            'aria-label': `Suspend ${title}`,
            onclick: (event) => suspendOrResume(event, api.suspendMatch, 'Suspended: no bets are taken on this match until you resume it.'),
          })
        : match.status === 'suspended'
          ? h('button', {
              type: 'button',
              class: 'primary',
              text: 'Resume',
              'aria-label': `Resume ${title}`,
              onclick: (event) => suspendOrResume(event, api.resumeMatch, 'Resumed: bets are taken again.'),
            })
          : null;
    const panelId = `exposure-${match.id}`;
    const exposurePanel = h('section', { class: 'exposure', id: panelId, 'aria-label': `Exposure on ${title}`, hidden: !exposureOpen });
    const exposureButton = h('button', {
      type: 'button',
      class: 'secondary',
      text: 'Exposure',
      'aria-expanded': String(exposureOpen),
      'aria-controls': panelId,
      onclick: () => {
        exposureOpen = !exposureOpen;
        exposureButton.setAttribute('aria-expanded', String(exposureOpen));
        exposurePanel.hidden = !exposureOpen;
        if (exposureOpen) loadExposure();
      },
    });
    const loadExposure = async () => {
      const error = errorBox();
      const refresh = h('button', { type: 'button', class: 'link', text: 'Refresh exposure', onclick: () => loadExposure() });
      exposurePanel.setAttribute('aria-busy', 'true');
      try {
        const exposure = await api.matchExposure(token, match.id);
        exposurePanel.replaceChildren(h('h4', { text: 'Exposure' }), ...exposureView(exposure, match), refresh);
      } catch (err) {
        error.show(err);
        exposurePanel.replaceChildren(h('h4', { text: 'Exposure' }), error.el, refresh);
      } finally {
        exposurePanel.removeAttribute('aria-busy');
      }
    };
    if (exposureOpen) loadExposure();

    // Limits: empty means none (sent as null).
    const limitsError = errorBox();
    const limits = limitInputs(match);
    const limitsForm = h(
      'form',
      { class: 'limits-form', 'aria-label': `Limits for ${title}`, novalidate: true },
      h('fieldset', { disabled: !trading || closed }, h('legend', { text: 'Limits' }), h('div', { class: 'limit-fields' }, limits.map((l) => l.el)), h('button', { type: 'submit', class: 'secondary', text: 'Save limits' })),
      limitsError.el,
    );
    limitsForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      limitsError.clear();
      clearFieldErrors(limitsForm);
      if (closedForBetting(match)) return draw();
      const read = readLimits(limits);
      if (read.error) return fieldError(limitsForm, ...read.error);
      const change = {};
      for (const [name] of LIMIT_FIELDS) {
        if (read.values[name] !== (match[name] ?? null)) change[name] = read.values[name];
      }
      if (!Object.keys(change).length) {
        status.show('No change to save.');
        return;
      }
      try {
        match = await api.updateMatch(token, match.id, change);
        draw('Limits saved.');
      } catch (err) {
        if (!closedMeanwhile(err)) showFieldErrors(limitsForm, err, limitsError);
      }
    });

    // Competition: empty means none (sent as null).
    const competitionError = errorBox();
    const competition = competitionInput(match);
    const competitionForm = h(
      'form',
      { class: 'competition-form', 'aria-label': `Competition of ${title}`, novalidate: true },
      h(
        'fieldset',
        { disabled: !trading || closed },
        h('legend', { class: 'visually-hidden', text: 'Competition' }),
        h('div', { class: 'inline' }, field('Competition', competition, 'Empty: none.'), h('button', { type: 'submit', class: 'secondary', text: 'Save competition' })),
      ),
      competitionError.el,
    );
    competitionForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      competitionError.clear();
      clearFieldErrors(competitionForm);
      if (closedForBetting(match)) return draw();
      const read = readCompetition(competition);
      if (read.error) return fieldError(competitionForm, competition, read.error);
      if (read.value === (match.competition ?? null)) {
        status.show('No change to save.');
        return;
      }
      try {
        match = await api.updateMatch(token, match.id, { competition: read.value });
        draw(read.value === null ? 'Competition removed.' : 'Competition saved.');
      } catch (err) {
        if (!closedMeanwhile(err)) showFieldErrors(competitionForm, err, competitionError);
      }
    });

    li.replaceChildren();
    li.dataset.status = match.status;
    li.dataset.closed = String(closed);
    const heading = h('h3', { class: 'match-title', tabindex: '-1', text: title });
    append(li, [
      heading,
      h(
        'p',
        { class: 'match-meta' },
        h('span', { class: 'muted', text: `#${match.id} · ` }),
        match.competition ? [h('span', { class: 'match-competition', text: match.competition }), ' · '] : null,
        h('time', { datetime: match.date, text: formatDateTime(match.date) }),
        ' ',
        h('span', { class: `tag status-${match.status}`, text: statusText(match) }),
      ),
      trading
        ? [h('div', { class: 'actions trade-actions' }, pauseButton, exposureButton), tradeError.el, exposurePanel, closedNote, oddsForm, limitsForm, competitionForm, resultForm]
        : h('p', {}, 'Odds: ', SELECTIONS.filter((s) => match.odds[s] !== undefined).map((s) => `${s} ${formatOdds(match.odds[s])}`).join(' · ')),
      status.el,
    ]);
    // The control that was used is gone (redrawn): keep the keyboard here,
    // on its counterpart (Suspend <-> Resume) or the match's heading.
    if (focus === 'pause') (li.querySelector('.trade-actions button') ?? heading).focus();
    else if (focus) heading.focus();
  };
  draw();
  return li;
}

// Every match of `params` (open or suspended, to now), a page at a time.
async function allPages(params, token) {
  const items = [];
  for (let offset = 0; offset < WAITING_MAX; offset += LIST_PAGE_MAX) {
    const page = await api.listMatches({ ...params, limit: LIST_PAGE_MAX, offset }, token);
    items.push(...page.items);
    if (offset + page.items.length >= page.total || !page.items.length) break;
  }
  return items;
}

// The matches waiting for a result: kicked off (date up to now) and not
// settled, i.e. open or suspended. The API takes one status at a time, so
// both lists are read and merged, then paged here.
async function waitingPage({ team, sort, limit, offset }, token) {
  const to = toRfc3339(new Date());
  const [open, suspended] = await Promise.all(['open', 'suspended'].map((st) => allPages({ status: st, team, to, sort }, token)));
  const sign = sort === '-date' ? -1 : 1;
  const items = [...open, ...suspended].sort((a, b) => sign * (Date.parse(a.date) - Date.parse(b.date) || a.id - b.id));
  return { items: items.slice(offset, offset + limit), total: items.length, limit, offset };
}

export function renderList(section, { token, onCleanup }) {
  onCleanup?.(closeConfirm);
  const status = h(
    'select',
    { name: 'status' },
    h('option', { value: '', text: 'All' }),
    h('option', { value: 'open', text: 'Open' }),
    h('option', { value: 'suspended', text: 'Suspended' }),
    h('option', { value: 'settled', text: 'Settled' }),
    h('option', { value: 'waiting', text: 'Waiting for a result' }),
  );
  const team = h('input', { type: 'search', name: 'team', autocomplete: 'off' });
  const sort = h('select', { name: 'sort' }, h('option', { value: 'date', text: 'Earliest first' }), h('option', { value: '-date', text: 'Latest first' }));
  const filters = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter matches' },
    field('Status', status, 'Waiting for a result: kicked off, not settled'),
    field('Team', team, 'Exact name, either side'),
    field('Order', sort),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Show' })),
  );
  const error = errorBox();
  const list = h('ul', { class: 'admin-match-list', 'aria-label': 'Matches' });
  const pages = pager('Match pages', (offset) => load(offset));
  section.append(filters, error.el, list, pages.el);
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    load(0);
  });
  status.addEventListener('change', () => load(0));
  sort.addEventListener('change', () => load(0));

  let loads = 0; // answers to a superseded load are dropped
  async function load(offset) {
    error.clear();
    const mine = ++loads;
    try {
      const params = { team: team.value.trim(), sort: sort.value, limit: PAGE_SIZE, offset };
      const page = status.value === 'waiting' ? await waitingPage(params, token) : await api.listMatches({ ...params, status: status.value }, token);
      if (mine !== loads) return;
      list.replaceChildren(...page.items.map((m) => matchRow(m, token)));
      if (!page.items.length) list.append(h('li', { class: 'empty', text: status.value === 'waiting' ? 'No match is waiting for a result.' : 'No matches.' }));
      pages.update(page);
    } catch (err) {
      if (mine === loads) error.show(err);
    }
  }
  load(0);
}

const DEFAULT_KICKOFF_HOUR = 19;
const DEFAULT_KICKOFF_MINUTE = 45;

export function renderNew(section, { token }) {
  const team1 = h('input', { type: 'text', name: 'team_1', 'data-field': 'team_1', required: true, maxlength: 100, autocomplete: 'off' });
  const team2 = h('input', { type: 'text', name: 'team_2', 'data-field': 'team_2', required: true, maxlength: 100, autocomplete: 'off' });
  const tomorrow = new Date();
  tomorrow.setDate(tomorrow.getDate() + 1);
  tomorrow.setHours(DEFAULT_KICKOFF_HOUR, DEFAULT_KICKOFF_MINUTE, 0, 0);
  const date = h('input', { type: 'datetime-local', name: 'date', 'data-field': 'date', required: true, value: toLocalInput(tomorrow) });
  const competition = competitionInput(null);
  const inputs = oddsInputs(null);
  const limits = limitInputs(null);
  const error = errorBox();
  const status = statusBox();
  const form = h(
    'form',
    { class: 'card form', 'aria-label': 'New match', novalidate: true },
    field('Team 1 (home)', team1),
    field('Team 2 (away)', team2),
    field('Kick-off (your local time)', date),
    field('Competition (optional)', competition, 'e.g. Premier League 2025/26. Kept for the next match.'),
    h('fieldset', { 'data-field': 'odds', id: uid('odds') }, h('legend', { text: 'Odds (leave blank for a selection not offered)' }), h('div', { class: 'odds-fields' }, inputs.map((i) => i.el))),
    h('fieldset', {}, h('legend', { text: 'Limits (optional)' }), h('div', { class: 'limit-fields' }, limits.map((l) => l.el))),
    error.el,
    h('button', { type: 'submit', class: 'primary', text: 'Create match' }),
    status.el,
  );
  section.append(form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.clear();
    status.clear();
    clearFieldErrors(form);
    const when = localInputToRfc3339(date.value);
    if (!when) return fieldError(form, date, 'Choose the kick-off date and time.');
    const odds = {};
    for (const { s, input } of inputs) {
      if (!input.value.trim()) continue;
      const value = parseOdds(input.value);
      if (value === null) return fieldError(form, input, 'Decimal odds such as 2.10 (at most two decimals).');
      odds[s] = value;
    }
    const read = readLimits(limits);
    if (read.error) return fieldError(form, ...read.error);
    const comp = readCompetition(competition);
    if (comp.error) return fieldError(form, competition, comp.error);
    const body = { team_1: team1.value, team_2: team2.value, date: when, odds };
    // Only the limits and competition set: an older server knows no such fields.
    for (const [name] of LIMIT_FIELDS) if (read.values[name] !== null) body[name] = read.values[name];
    if (comp.value !== null) body.competition = comp.value;
    try {
      const match = await api.createMatch(token, body);
      status.show(`Created match #${match.id}: ${match.team_1} v ${match.team_2}, ${formatDateTime(match.date)}${match.competition ? ` (${match.competition})` : ''}.`);
      team1.value = '';
      team2.value = '';
      for (const { input } of [...inputs, ...limits]) input.value = '';
      team1.focus();
    } catch (err) {
      showFieldErrors(form, err, error);
    }
  });
}
