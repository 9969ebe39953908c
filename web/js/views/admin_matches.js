// Operator: list matches with their odds and results, change odds, suspend
// and resume betting, set a match's limits (max stake, max liability), see
// its exposure, enter a result (or void), and create a match.
import * as api from '../api.js';
import { limitChart } from '../chart.js';
import { append, field, h, uid } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, showFieldErrors, statusBox } from '../errors.js';
import { formatDateTime, localInputToRfc3339, toLocalInput } from '../format.js';
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

function matchRow(initial, token) {
  let match = initial;
  let exposureOpen = false;
  const li = h('li', { class: 'card admin-match', 'data-match-id': match.id });
  const draw = (note) => {
    const title = `${match.team_1} v ${match.team_2}`;
    // Prices and limits can change, and the result be entered, while the
    // match is open or suspended.
    const trading = match.status === 'open' || match.status === 'suspended';
    const status = statusBox();
    if (note) status.show(note);
    const oddsError = errorBox();
    const inputs = oddsInputs(match);
    const oddsForm = h(
      'form',
      { class: 'odds-form', 'aria-label': `Odds for ${title}` },
      h('fieldset', { disabled: !trading }, h('legend', { text: 'Odds' }), h('div', { class: 'odds-fields' }, inputs.map((i) => i.el)), h('button', { type: 'submit', class: 'secondary', text: 'Save odds' })),
      oddsError.el,
    );
    oddsForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      oddsError.clear();
      clearFieldErrors(oddsForm);
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
        showFieldErrors(oddsForm, err, oddsError);
      }
    });

    const resultError = errorBox();
    const resultSelect = h(
      'select',
      { name: 'result', id: uid('result') },
      h('option', { value: '', text: 'Choose…' }),
      h('option', { value: '1', text: `1 – ${match.team_1} won` }),
      h('option', { value: 'X', text: 'X – draw' }),
      h('option', { value: '2', text: `2 – ${match.team_2} won` }),
      h('option', { value: 'void', text: 'Void – refund every stake' }),
    );
    const resultForm = h(
      'form',
      { class: 'result-form' },
      field(['Result', h('span', { class: 'visually-hidden', text: ` for ${title}` })], resultSelect),
      h('button', { type: 'submit', class: 'primary', text: 'Enter result' }),
      resultError.el,
    );
    resultForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      resultError.clear();
      if (!resultSelect.value) {
        resultError.show('Choose a result first.');
        return;
      }
      try {
        const answer = await api.settleMatch(token, match.id, resultSelect.value);
        match = answer.match;
        draw(settlementText(answer));
      } catch (err) {
        resultError.show(err);
      }
    });

    // Suspend / resume, and the exposure panel.
    const tradeError = errorBox();
    const suspendOrResume = async (act, done) => {
      tradeError.clear();
      try {
        match = await act(token, match.id);
        draw(done);
      } catch (err) {
        tradeError.show(err);
      }
    };
    const pauseButton =
      match.status === 'open'
        ? h('button', {
            type: 'button',
            class: 'secondary',
            text: 'Suspend',
            'aria-label': `Suspend ${title}`,
            onclick: () => suspendOrResume(api.suspendMatch, 'Suspended: no bets are taken on this match until you resume it.'),
          })
        : match.status === 'suspended'
          ? h('button', {
              type: 'button',
              class: 'primary',
              text: 'Resume',
              'aria-label': `Resume ${title}`,
              onclick: () => suspendOrResume(api.resumeMatch, 'Resumed: bets are taken again.'),
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
      h('fieldset', { disabled: !trading }, h('legend', { text: 'Limits' }), h('div', { class: 'limit-fields' }, limits.map((l) => l.el)), h('button', { type: 'submit', class: 'secondary', text: 'Save limits' })),
      limitsError.el,
    );
    limitsForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      limitsError.clear();
      clearFieldErrors(limitsForm);
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
        showFieldErrors(limitsForm, err, limitsError);
      }
    });

    li.replaceChildren();
    li.dataset.status = match.status;
    append(li, [
      h('h3', { class: 'match-title', text: title }),
      h(
        'p',
        { class: 'match-meta' },
        h('span', { class: 'muted', text: `#${match.id} · ` }),
        h('time', { datetime: match.date, text: formatDateTime(match.date) }),
        ' ',
        h('span', { class: `tag status-${match.status}`, text: statusText(match) }),
      ),
      trading
        ? [h('div', { class: 'actions trade-actions' }, pauseButton, exposureButton), tradeError.el, exposurePanel, oddsForm, limitsForm, resultForm]
        : h('p', {}, 'Odds: ', SELECTIONS.filter((s) => match.odds[s] !== undefined).map((s) => `${s} ${formatOdds(match.odds[s])}`).join(' · ')),
      status.el,
    ]);
  };
  draw();
  return li;
}

export function renderList(section, { token }) {
  const status = h(
    'select',
    { name: 'status' },
    h('option', { value: '', text: 'All' }),
    h('option', { value: 'open', text: 'Open' }),
    h('option', { value: 'suspended', text: 'Suspended' }),
    h('option', { value: 'settled', text: 'Settled' }),
  );
  const team = h('input', { type: 'search', name: 'team', autocomplete: 'off' });
  const sort = h('select', { name: 'sort' }, h('option', { value: 'date', text: 'Earliest first' }), h('option', { value: '-date', text: 'Latest first' }));
  const filters = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter matches' },
    field('Status', status),
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
      const page = await api.listMatches({ status: status.value, team: team.value.trim(), sort: sort.value, limit: PAGE_SIZE, offset }, token);
      if (mine !== loads) return;
      list.replaceChildren(...page.items.map((m) => matchRow(m, token)));
      if (!page.items.length) list.append(h('li', { class: 'empty', text: 'No matches.' }));
      pages.update(page);
    } catch (err) {
      error.show(err);
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
    const body = { team_1: team1.value, team_2: team2.value, date: when, odds };
    // Only the limits set: an older server knows no such fields.
    for (const [name] of LIMIT_FIELDS) if (read.values[name] !== null) body[name] = read.values[name];
    try {
      const match = await api.createMatch(token, body);
      status.show(`Created match #${match.id}: ${match.team_1} v ${match.team_2}, ${formatDateTime(match.date)}.`);
      team1.value = '';
      team2.value = '';
      for (const { input } of [...inputs, ...limits]) input.value = '';
      team1.focus();
    } catch (err) {
      showFieldErrors(form, err, error);
    }
  });
}
