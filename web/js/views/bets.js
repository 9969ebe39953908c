// "My bets": the bettor's bets, newest first, filtered by status, each
// accumulator with its legs, and a "Cash out" for pending bets. Also used by
// the operator page for the list of all bets (with a user column).
import * as api from '../api.js';
import { accaPayout, formatBigMoney } from '../acca.js';
import { cashOutControl } from '../cashout.js';
import { field, h } from '../dom.js';
import { errorBox, statusBox } from '../errors.js';
import { BET_STATUSES, betStatusText, formatDateTime, selectionText } from '../format.js';
import { formatMoney, formatOdds } from '../money.js';
import { pager } from '../pager.js';
import { currentUser } from '../session.js';
import { matchById, refreshUser } from '../state.js';

const PAGE_SIZE = 20;
const NUMERIC = new Set(['User', 'Stake', 'Odds', 'Payout']);

const isAcca = (bet) => bet.type === 'accumulator' && Array.isArray(bet.legs);

const titleOf = (match, id) => (match ? `${match.team_1} v ${match.team_2}` : `Match #${id}`);

// What the bet paid or may pay. A won accumulator pays on its won legs only
// (a void leg counts 1), which is less than potential_payout when one was void.
function payoutText(bet) {
  if (bet.status === 'cashed_out') return `${formatMoney(bet.cash_out_amount)} cashed out`;
  if (bet.status === 'void') return `${formatMoney(bet.stake)} refunded`;
  if (bet.status === 'lost') return '0.00';
  if (bet.status === 'won') {
    if (!isAcca(bet)) return formatMoney(bet.potential_payout);
    return formatBigMoney(accaPayout(bet.stake, bet.legs.filter((l) => l.status === 'won').map((l) => l.odds)));
  }
  return `${formatMoney(bet.potential_payout)} if it wins`;
}

const statusTag = (status) => h('span', { class: `tag status-${status}`, text: betStatusText(status) });

// The Match and Pick cells: a single's match and selection, or an
// accumulator's legs, each with its own state.
async function matchCells(bet) {
  if (!isAcca(bet)) {
    const match = await matchById(bet.match_id).catch(() => null);
    return [
      h('td', {}, h('div', {}, titleOf(match, bet.match_id), h('span', { class: 'muted small' }, ` #${bet.id}`))),
      h('td', { text: selectionText(bet.selection, match) }),
    ];
  }
  const legs = await Promise.all(
    bet.legs.map(async (leg) => {
      const match = await matchById(leg.match_id).catch(() => null);
      return h(
        'li',
        { class: 'leg', 'data-match-id': leg.match_id, 'data-status': leg.status },
        h('span', { class: 'leg-match', text: titleOf(match, leg.match_id) }),
        ': ',
        h('span', { class: 'leg-pick', text: selectionText(leg.selection, match) }),
        ' at ',
        h('span', { class: 'leg-odds', text: formatOdds(leg.odds) }),
        ' ',
        statusTag(leg.status),
      );
    }),
  );
  return [
    h(
      'td',
      {},
      h('div', {}, h('strong', { text: 'Accumulator' }), h('span', { class: 'muted small' }, ` #${bet.id}`), h('ul', { class: 'legs', 'aria-label': `Legs of bet #${bet.id}` }, legs)),
    ),
    h('td', { text: `${bet.legs.length} legs` }),
  ];
}

// A table of bets that turns into stacked cards on a narrow screen (each cell
// carries its column name in data-label for the CSS). With `cashOut`
// ({token, onCashedOut}) pending bets get a "Cash out" control.
export async function betTable(bets, { showUser = false, cashOut = null } = {}) {
  const head = ['Match', 'Pick', 'Stake', 'Odds', 'Payout', 'Status', 'Placed'];
  if (showUser) head.unshift('User');
  if (cashOut) head.push('Cash-out');
  const rows = await Promise.all(
    bets.map(async (bet) => {
      const [matchCell, pickCell] = await matchCells(bet);
      const payout = payoutText(bet);
      const cells = [
        ['Match', matchCell],
        ['Pick', pickCell],
        ['Stake', h('td', { class: 'num', text: formatMoney(bet.stake) })],
        ['Odds', h('td', { class: 'num', text: formatOdds(bet.odds) })],
        ['Payout', h('td', { class: 'num', text: payout })],
        ['Status', h('td', {}, statusTag(bet.status))],
        ['Placed', h('td', {}, h('time', { datetime: bet.created_at, text: formatDateTime(bet.created_at) }))],
      ];
      if (showUser) cells.unshift(['User', h('td', { class: 'num', text: `#${bet.user_id}` })]);
      if (cashOut) cells.push(['Cash-out', h('td', {}, bet.status === 'pending' ? cashOutControl(bet, cashOut) : '–')]);
      for (const [label, td] of cells) td.dataset.label = label;
      return h('tr', { 'data-bet-id': bet.id, 'data-status': bet.status, 'data-type': bet.type ?? 'single' }, cells.map(([, td]) => td));
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
    BET_STATUSES.map((s) => h('option', { value: s, text: s[0].toUpperCase() + betStatusText(s).slice(1) })),
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
  const done = statusBox();
  const holder = h('div', { class: 'table-holder' });
  const pages = pager('Bet pages', (offset) => load(offset));
  main.append(filters, done.el, error.el, holder, pages.el);
  let shownOffset = 0;
  const cashOut = {
    token: user.token,
    // Cashed out: the new balance in the header, the bet's new status in the list.
    onCashedOut: async (bet) => {
      const me = await refreshUser().catch(() => null);
      const balance = me ? ` Your balance is now ${formatMoney(me.balance)}.` : '';
      done.show(`Cashed out bet #${bet.id} for ${formatMoney(bet.cash_out_amount)}.${balance}`);
      await load(shownOffset);
    },
  };
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
      const content = page.items.length ? await betTable(page.items, { cashOut }) : h('p', { class: 'empty', text: status.value ? `No ${betStatusText(status.value)} bets.` : 'No bets yet.' });
      if (mine !== loads) return;
      shownOffset = offset;
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
