// The bettor's ledger: every change to the balance, newest first; a row
// about a bet links to it (#bets/12) and names its match.
import * as api from '../api.js';
import { h } from '../dom.js';
import { errorBox } from '../errors.js';
import { formatDateTime } from '../format.js';
import { formatCash, formatSignedCash } from '../money.js';
import { pager } from '../pager.js';
import { currentUser } from '../session.js';
import { matchLabel, refreshUser, state } from '../state.js';

const PAGE_SIZE = 20;
const KIND_LABELS = { deposit: 'Deposit', stake: 'Stake', payout: 'Payout', refund: 'Refund', cash_out: 'Cash-out' };

// What a bet was on, for its ledger rows: "Arsenal v Chelsea", or
// "Accumulator: Arsenal v Chelsea, Leeds v Everton and 1 more".
async function betName(token, betId) {
  const bet = await api.getBet(token, betId);
  if (bet.type === 'accumulator' && Array.isArray(bet.legs)) {
    const names = await Promise.all(bet.legs.map((leg) => matchLabel(leg.match_id)));
    const shown = names.slice(0, 2).join(', ');
    return `Accumulator: ${shown}${names.length > 2 ? ` and ${names.length - 2} more` : ''}`;
  }
  return matchLabel(bet.match_id);
}

// The names of the bets these rows are about: bet id -> text (missing when
// it could not be read).
export async function betNames(token, items) {
  const ids = [...new Set(items.map((t) => t.bet_id).filter(Boolean))];
  const named = await Promise.all(ids.map(async (id) => [id, await betName(token, id).catch(() => null)]));
  return new Map(named.filter(([, name]) => name));
}

// The bet cell: "#12" (the operator's copy), or for the bettor a link to the
// bet with its match's name.
function betCell(t, names) {
  if (!t.bet_id) return h('td', { 'data-label': 'Bet', class: 'num', text: '–' });
  if (!names) return h('td', { 'data-label': 'Bet', class: 'num', text: `#${t.bet_id}` });
  const name = names.get(t.bet_id);
  // One child: on a phone the cell is a grid of its label and its content.
  return h(
    'td',
    { 'data-label': 'Bet', class: 'bet-cell' },
    h(
      'div',
      {},
      h('a', { href: `#bets/${t.bet_id}`, 'aria-label': name ? `Bet #${t.bet_id}, ${name}` : null, text: `Bet #${t.bet_id}` }),
      name ? h('span', { class: 'bet-match', text: name }) : null,
    ),
  );
}

// The ledger rows as a table (stacked cards on a phone). Also used by the
// operator's account look-up (without names: plain bet numbers).
export function ledgerTable(items, { names = null } = {}) {
  const rows = items.map((t) =>
    h(
      'tr',
      { 'data-kind': t.kind },
      h('td', { 'data-label': 'When' }, h('time', { datetime: t.created_at, text: formatDateTime(t.created_at) })),
      h('td', { 'data-label': 'What', text: KIND_LABELS[t.kind] ?? t.kind }),
      h('td', { 'data-label': 'Amount', class: `num ${t.amount < 0 ? 'debit' : 'credit'}`, text: formatSignedCash(t.amount) }),
      h('td', { 'data-label': 'Balance after', class: 'num', text: formatCash(t.balance_after) }),
      betCell(t, names),
    ),
  );
  return h(
    'table',
    { class: 'data stack ledger' },
    h('thead', {}, h('tr', {}, ['When', 'What', 'Amount', 'Balance after', 'Bet'].map((t, i) => h('th', { scope: 'col', class: i >= 2 && (i < 4 || !names) ? 'num' : null, text: t })))),
    h('tbody', {}, rows),
  );
}

export function render(main) {
  const user = currentUser();
  main.append(h('h1', { tabindex: '-1', text: 'Ledger' }));
  if (!user) {
    main.append(h('p', { class: 'notice' }, h('a', { href: '#account', text: 'Sign up or sign in' }), ' to see your ledger.'));
    return;
  }
  const balance = h('p', { class: 'balance-line' });
  const error = errorBox();
  const holder = h('div', { class: 'table-holder' });
  const pages = pager('Ledger pages', (offset) => load(offset));
  main.append(balance, error.el, holder, pages.el);

  let loads = 0; // answers to a superseded load are dropped
  async function load(offset) {
    error.clear();
    const mine = ++loads;
    try {
      const [page] = await Promise.all([api.transactions(user.id, user.token, { limit: PAGE_SIZE, offset }), refreshUser()]);
      if (mine !== loads) return;
      balance.replaceChildren('Balance ', h('strong', { class: 'balance', text: formatCash(state.user?.balance) }));
      if (!page.items.length) {
        holder.replaceChildren(h('p', { class: 'empty', text: 'No transactions yet.' }));
      } else {
        const names = await betNames(user.token, page.items);
        if (mine !== loads) return;
        holder.replaceChildren(ledgerTable(page.items, { names }));
      }
      pages.update(page);
    } catch (err) {
      error.show(err);
    }
  }
  load(0);
}
