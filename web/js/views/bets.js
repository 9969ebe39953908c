// "My bets": the bettor's bets, newest first, filtered by status. Also used
// by the operator page for the list of all bets (with a user column).
import * as api from '../api.js';
import { field, h } from '../dom.js';
import { errorBox } from '../errors.js';
import { BET_STATUSES, formatDateTime, selectionText } from '../format.js';
import { formatMoney, formatOdds } from '../money.js';
import { pager } from '../pager.js';
import { currentUser } from '../session.js';
import { matchById, refreshUser } from '../state.js';

const PAGE_SIZE = 20;
const NUMERIC = new Set(['User', 'Stake', 'Odds', 'Payout']);

// A table of bets that turns into stacked cards on a narrow screen (each cell
// carries its column name in data-label for the CSS).
export async function betTable(bets, { showUser = false } = {}) {
  const head = ['Match', 'Pick', 'Stake', 'Odds', 'Payout', 'Status', 'Placed'];
  if (showUser) head.unshift('User');
  const rows = await Promise.all(
    bets.map(async (bet) => {
      const match = await matchById(bet.match_id).catch(() => null);
      const title = match ? `${match.team_1} v ${match.team_2}` : `Match #${bet.match_id}`;
      const payout =
        bet.status === 'won' ? formatMoney(bet.potential_payout)
        : bet.status === 'void' ? `${formatMoney(bet.stake)} refunded`
        : bet.status === 'lost' ? '0.00'
        : `${formatMoney(bet.potential_payout)} if it wins`;
      const cells = [
        ['Match', h('td', {}, title, h('span', { class: 'muted small' }, ` #${bet.id}`))],
        ['Pick', h('td', { text: selectionText(bet.selection, match) })],
        ['Stake', h('td', { class: 'num', text: formatMoney(bet.stake) })],
        ['Odds', h('td', { class: 'num', text: formatOdds(bet.odds) })],
        ['Payout', h('td', { class: 'num', text: payout })],
        ['Status', h('td', {}, h('span', { class: `tag status-${bet.status}`, text: bet.status }))],
        ['Placed', h('td', {}, h('time', { datetime: bet.created_at, text: formatDateTime(bet.created_at) }))],
      ];
      if (showUser) cells.unshift(['User', h('td', { class: 'num', text: `#${bet.user_id}` })]);
      for (const [label, td] of cells) td.dataset.label = label;
      return h('tr', { 'data-bet-id': bet.id, 'data-status': bet.status }, cells.map(([, td]) => td));
    }),
  );
  return h(
    'table',
    { class: 'data stack' },
    h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col', class: NUMERIC.has(t) ? 'num' : null, text: t })))),
    h('tbody', {}, rows),
  );
}

export function statusSelect() {
  return h(
    'select',
    { name: 'status' },
    h('option', { value: '', text: 'All' }),
    BET_STATUSES.map((s) => h('option', { value: s, text: s[0].toUpperCase() + s.slice(1) })),
  );
}

export function render(main) {
  const user = currentUser();
  main.append(h('h1', { tabindex: '-1', text: 'My bets' }));
  if (!user) {
    main.append(h('p', { class: 'notice' }, h('a', { href: '#account', text: 'Sign up or sign in' }), ' to see your bets.'));
    return;
  }
  const status = statusSelect();
  const filters = h('form', { class: 'filters', 'aria-label': 'Filter bets' }, field('Status', status));
  const error = errorBox();
  const holder = h('div', { class: 'table-holder' });
  const pages = pager('Bet pages', (offset) => load(offset));
  main.append(filters, error.el, holder, pages.el);
  status.addEventListener('change', () => load(0));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    load(0);
  });

  let loads = 0; // answers to a superseded load are dropped
  async function load(offset) {
    error.clear();
    const mine = ++loads;
    holder.setAttribute('aria-busy', 'true');
    try {
      const page = await api.userBets(user.id, user.token, { status: status.value, limit: PAGE_SIZE, offset });
      const content = page.items.length ? await betTable(page.items) : h('p', { class: 'empty', text: status.value ? `No ${status.value} bets.` : 'No bets yet.' });
      if (mine !== loads) return;
      holder.replaceChildren(content);
      pages.update(page);
    } catch (err) {
      error.show(err);
    } finally {
      holder.removeAttribute('aria-busy');
    }
  }
  load(0);
  refreshUser().catch(() => {});
}
