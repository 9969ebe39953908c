// Operator: list matches with their odds and results, change odds, enter a
// result (or void), and create a match.
import * as api from '../api.js';
import { append, field, h, uid } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, showFieldErrors, statusBox } from '../errors.js';
import { formatDateTime, localInputToRfc3339, toLocalInput } from '../format.js';
import { formatMoney, formatOdds, parseOdds } from '../money.js';
import { pager } from '../pager.js';

const PAGE_SIZE = 20;
const SELECTIONS = ['1', 'X', '2'];

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
  const li = h('li', { class: 'card admin-match', 'data-match-id': match.id });
  const draw = (note) => {
    const title = `${match.team_1} v ${match.team_2}`;
    const status = statusBox();
    if (note) status.show(note);
    const oddsError = errorBox();
    const inputs = oddsInputs(match);
    const oddsForm = h(
      'form',
      { class: 'odds-form', 'aria-label': `Odds for ${title}` },
      h('fieldset', { disabled: match.status !== 'open' }, h('legend', { text: 'Odds' }), h('div', { class: 'odds-fields' }, inputs.map((i) => i.el)), h('button', { type: 'submit', class: 'secondary', text: 'Save odds' })),
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

    const closed = match.status === 'open' && new Date(match.date) <= new Date();
    li.replaceChildren();
    append(li, [
      h('h3', { class: 'match-title', text: title }),
      h(
        'p',
        { class: 'match-meta' },
        h('span', { class: 'muted', text: `#${match.id} · ` }),
        h('time', { datetime: match.date, text: formatDateTime(match.date) }),
        ' ',
        h('span', { class: `tag status-${match.status}`, text: match.status === 'settled' ? `settled: ${match.result}` : closed ? 'started (closed)' : 'open' }),
      ),
      match.status === 'open' ? [oddsForm, resultForm] : h('p', {}, 'Odds: ', SELECTIONS.filter((s) => match.odds[s] !== undefined).map((s) => `${s} ${formatOdds(match.odds[s])}`).join(' · ')),
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
  const error = errorBox();
  const status = statusBox();
  const form = h(
    'form',
    { class: 'card form', 'aria-label': 'New match', novalidate: true },
    field('Team 1 (home)', team1),
    field('Team 2 (away)', team2),
    field('Kick-off (your local time)', date),
    h('fieldset', { 'data-field': 'odds', id: uid('odds') }, h('legend', { text: 'Odds (leave blank for a selection not offered)' }), h('div', { class: 'odds-fields' }, inputs.map((i) => i.el))),
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
    try {
      const match = await api.createMatch(token, { team_1: team1.value, team_2: team2.value, date: when, odds });
      status.show(`Created match #${match.id}: ${match.team_1} v ${match.team_2}, ${formatDateTime(match.date)}.`);
      team1.value = '';
      team2.value = '';
      for (const { input } of inputs) input.value = '';
      team1.focus();
    } catch (err) {
      showFieldErrors(form, err, error);
    }
  });
}
