// The bettor's ledger: every change to the balance, newest first.
import * as api from '../api.js';
import { h } from '../dom.js';
import { errorBox } from '../errors.js';
import { formatDateTime } from '../format.js';
import { formatMoney, formatSignedMoney } from '../money.js';
import { pager } from '../pager.js';
import { currentUser } from '../session.js';
import { refreshUser, state } from '../state.js';

const PAGE_SIZE = 20;
const KIND_LABELS = { deposit: 'Deposit', stake: 'Stake', payout: 'Payout', refund: 'Refund', cash_out: 'Cash-out' };

// The ledger rows as a table (stacked cards on a phone). Also used by the
// operator's account look-up.
export function ledgerTable(items) {
  const rows = items.map((t) =>
    h(
      'tr',
      { 'data-kind': t.kind },
      h('td', { 'data-label': 'When' }, h('time', { datetime: t.created_at, text: formatDateTime(t.created_at) })),
      h('td', { 'data-label': 'What', text: KIND_LABELS[t.kind] ?? t.kind }),
      h('td', { 'data-label': 'Amount', class: `num ${t.amount < 0 ? 'debit' : 'credit'}`, text: formatSignedMoney(t.amount) }),
      h('td', { 'data-label': 'Balance after', class: 'num', text: formatMoney(t.balance_after) }),
      h('td', { 'data-label': 'Bet', class: 'num', text: t.bet_id ? `#${t.bet_id}` : '–' }),
    ),
  );
  return h(
    'table',
    { class: 'data stack ledger' },
    h('thead', {}, h('tr', {}, ['When', 'What', 'Amount', 'Balance after', 'Bet'].map((t, i) => h('th', { scope: 'col', class: i >= 2 ? 'num' : null, text: t })))),
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
      balance.replaceChildren('Balance ', h('strong', { class: 'balance', text: formatMoney(state.user?.balance) }));
      if (!page.items.length) {
        holder.replaceChildren(h('p', { class: 'empty', text: 'No transactions yet.' }));
      } else {
        holder.replaceChildren(ledgerTable(page.items));
      }
      pages.update(page);
    } catch (err) {
      error.show(err);
    }
  }
  load(0);
}
