// Operator: the betting summary as figures and small charts, and the list
// of all bets with filters, each bet with its bettor's name.
import * as api from '../api.js';
import { barChart } from '../chart.js';
import { field, h } from '../dom.js';
import { errorBox } from '../errors.js';
import { BET_STATUSES } from '../format.js';
import { formatMoney } from '../money.js';
import { pager } from '../pager.js';
import { matchLabel } from '../state.js';
import { betTable, statusSelect } from './bets.js';

const PAGE_SIZE = 20;
const SELECTION_LABELS = { 1: '1 (home)', X: 'X (draw)', 2: '2 (away)' };

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function renderSummary(section, { token }) {
  const error = errorBox();
  const body = h('div', { class: 'summary' }, h('p', { class: 'muted', text: 'Loading…' }));
  const refresh = h('button', { type: 'button', class: 'secondary', text: 'Refresh', onclick: () => load() });
  section.append(refresh, error.el, body);

  async function load() {
    error.clear();
    try {
      const s = await api.betsSummary(token);
      const tops = await Promise.all(
        (s.top_matches ?? []).map(async (t) =>
          h(
            'tr',
            {},
            h('td', { 'data-label': 'Match' }, await matchLabel(t.match_id), h('span', { class: 'muted small', text: ` #${t.match_id}` })),
            h('td', { 'data-label': 'Bets', class: 'num', text: String(t.bets) }),
            h('td', { 'data-label': 'Stake', class: 'num', text: formatMoney(t.stake) }),
          ),
        ),
      );
      body.replaceChildren(
        h(
          'dl',
          { class: 'figures' },
          h('div', {}, h('dt', { text: 'Bets' }), h('dd', { class: 'total-bets', text: String(s.total_bets) })),
          h('div', {}, h('dt', { text: 'Total stake' }), h('dd', { class: 'total-stake', text: formatMoney(s.total_stake) })),
        ),
        h(
          'div',
          { class: 'charts' },
          barChart(
            'Bets by status',
            BET_STATUSES.map((st) => ({ label: st, value: s.by_status?.[st]?.stake ?? 0, text: `${plural(s.by_status?.[st]?.count ?? 0, 'bet')} · ${formatMoney(s.by_status?.[st]?.stake ?? 0)}` })),
            { className: 'by-status' },
          ),
          barChart(
            'Bets by selection',
            ['1', 'X', '2'].map((sel) => ({ label: SELECTION_LABELS[sel], value: s.by_selection?.[sel]?.stake ?? 0, text: `${plural(s.by_selection?.[sel]?.count ?? 0, 'bet')} · ${formatMoney(s.by_selection?.[sel]?.stake ?? 0)}` })),
            { className: 'by-selection' },
          ),
        ),
        h('h3', { text: 'Top matches by stake' }),
        tops.length
          ? h(
              'table',
              { class: 'data stack top-matches' },
              h('thead', {}, h('tr', {}, ['Match', 'Bets', 'Stake'].map((t, i) => h('th', { scope: 'col', class: i ? 'num' : null, text: t })))),
              h('tbody', {}, tops),
            )
          : h('p', { class: 'empty', text: 'No bets yet.' }),
      );
    } catch (err) {
      body.replaceChildren();
      error.show(err);
    }
  }
  load();
}

// Puts each bettor's name (and account number) in the table's User cells.
// users: Map id -> Promise of the user (null when it cannot be read).
async function nameUsers(table, bets, users, token) {
  for (const bet of bets) {
    if (!users.has(bet.user_id)) users.set(bet.user_id, api.getUser(bet.user_id, token).catch(() => null));
  }
  const named = new Map(await Promise.all(bets.map(async (bet) => [bet.id, await users.get(bet.user_id)])));
  const head = table.querySelector('thead th');
  if (head?.textContent === 'User') head.classList.remove('num');
  for (const row of table.querySelectorAll('tbody tr[data-bet-id]')) {
    const bet = bets.find((b) => String(b.id) === row.dataset.betId);
    const cell = row.querySelector('td[data-label="User"]');
    if (!bet || !cell) continue;
    const user = named.get(bet.id);
    cell.classList.remove('num');
    cell.classList.add('bet-user');
    cell.dataset.userId = String(bet.user_id);
    // One child: the stacked (phone) table puts each child in a grid cell.
    cell.replaceChildren(
      h('span', {}, user ? h('span', { class: 'user-name', text: user.name }) : h('span', { class: 'muted', text: 'Unknown' }), h('span', { class: 'muted small', text: ` #${bet.user_id}` })),
    );
  }
}

export function renderList(section, { token }) {
  const status = statusSelect();
  const matchId = h('input', { type: 'text', inputmode: 'numeric', name: 'match_id', autocomplete: 'off', size: 6 });
  const selection = h(
    'select',
    { name: 'selection' },
    h('option', { value: '', text: 'Any' }),
    ['1', 'X', '2'].map((s) => h('option', { value: s, text: SELECTION_LABELS[s] })),
  );
  const sort = h(
    'select',
    { name: 'sort' },
    h('option', { value: '-created_at', text: 'Newest first' }),
    h('option', { value: 'created_at', text: 'Oldest first' }),
    h('option', { value: '-stake', text: 'Largest stake first' }),
    h('option', { value: 'stake', text: 'Smallest stake first' }),
  );
  const filters = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter bets' },
    field('Status', status),
    field('Match number', matchId),
    field('Selection', selection),
    field('Order', sort),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Show' })),
  );
  const error = errorBox();
  const holder = h('div', { class: 'table-holder' });
  const pages = pager('Bet pages', (offset) => load(offset));
  section.append(filters, error.el, holder, pages.el);
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    load(0);
  });
  for (const el of [status, selection, sort]) el.addEventListener('change', () => load(0));

  const users = new Map();
  let loads = 0; // answers to a superseded load are dropped
  async function load(offset) {
    error.clear();
    const mine = ++loads;
    try {
      const page = await api.allBets(token, {
        status: status.value,
        match_id: matchId.value.trim().replace(/^#/, ''),
        selection: selection.value,
        sort: sort.value,
        limit: PAGE_SIZE,
        offset,
      });
      let content = h('p', { class: 'empty', text: 'No bets match.' });
      if (page.items.length) {
        content = await betTable(page.items, { showUser: true });
        await nameUsers(content, page.items, users, token);
      }
      if (mine !== loads) return;
      holder.replaceChildren(content);
      pages.update(page);
    } catch (err) {
      error.show(err);
    }
  }
  load(0);
}
