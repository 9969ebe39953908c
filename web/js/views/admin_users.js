// Operator: credit an account (a deposit; owner and admin) and look an
// account up with its limits, any self-exclusion or time-out (read-only: only
// the bettor may change them), its latest bets and ledger (owner, admin and
// support).
import * as api from '../api.js';
import { field, h } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, showFieldErrors, statusBox } from '../errors.js';
import { formatDateTime } from '../format.js';
import { limitsSummary } from '../limits.js';
import { formatMoney, parseMoney } from '../money.js';
import { can } from '../roles.js';
import { betTable } from './bets.js';
import { ledgerTable } from './ledger.js';

const LATEST = 20; // bets and ledger rows shown per look-up

function accountNumber(input) {
  const id = Number(input.value.trim().replace(/^#/, ''));
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

function creditForm(token) {
  const id = h('input', { type: 'text', inputmode: 'numeric', name: 'user_id', 'data-field': 'user_id', autocomplete: 'off', size: 8 });
  const amount = h('input', { type: 'text', inputmode: 'decimal', name: 'amount', 'data-field': 'amount', autocomplete: 'off', size: 10 });
  const error = errorBox();
  const status = statusBox();
  const form = h(
    'form',
    { class: 'card form', 'aria-labelledby': 'credit-heading', novalidate: true },
    h('h3', { id: 'credit-heading', text: 'Credit an account' }),
    field('Account number', id),
    field('Amount', amount, 'e.g. 100.00'),
    error.el,
    h('button', { type: 'submit', class: 'primary', text: 'Credit' }),
    status.el,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.clear();
    status.clear();
    clearFieldErrors(form);
    const userId = accountNumber(id);
    if (!userId) return fieldError(form, id, 'Enter an account number, e.g. 7.');
    const cents = parseMoney(amount.value);
    if (cents === null || cents <= 0) return fieldError(form, amount, 'Enter an amount such as 100.00.');
    try {
      const answer = await api.deposit(token, userId, cents);
      status.show(`Credited ${formatMoney(cents)} to account #${userId}. Balance is now ${formatMoney(answer.balance)}.`);
      amount.value = '';
    } catch (err) {
      if (err.code === 'user_not_found') fieldError(form, id, 'There is no account with this number.');
      else showFieldErrors(form, err, error);
    }
  });
  return form;
}

function lookupForm(token) {
  const id = h('input', { type: 'text', inputmode: 'numeric', name: 'user_id', 'data-field': 'user_id', autocomplete: 'off', size: 8 });
  const error = errorBox();
  const out = h('div', { class: 'lookup' });
  const form = h(
    'form',
    { class: 'card form', 'aria-labelledby': 'lookup-heading', novalidate: true },
    h('h3', { id: 'lookup-heading', text: 'Look up an account' }),
    field('Account number', id),
    error.el,
    h('button', { type: 'submit', class: 'secondary', text: 'Look up' }),
    out,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.clear();
    clearFieldErrors(form);
    out.replaceChildren();
    const userId = accountNumber(id);
    if (!userId) return fieldError(form, id, 'Enter an account number, e.g. 7.');
    try {
      const user = await api.getUser(userId, token);
      out.replaceChildren(
        h(
          'dl',
          { class: 'details' },
          h('dt', { text: 'Name' }),
          h('dd', { text: user.name }),
          h('dt', { text: 'Email' }),
          h('dd', { text: user.email }),
          h('dt', { text: 'Balance' }),
          h('dd', { class: 'balance', text: formatMoney(user.balance) }),
          h('dt', { text: 'Since' }),
          h('dd', { text: formatDateTime(user.created_at) }),
        ),
      );
      const [limits, bets, ledger] = await Promise.allSettled([
        api.getLimits(userId, token),
        api.userBets(userId, token, { limit: LATEST }),
        api.transactions(userId, token, { limit: LATEST }),
      ]);
      if (limits.status === 'fulfilled') {
        out.append(
          h(
            'section',
            { class: 'operator-limits', 'aria-labelledby': 'lookup-limits-heading' },
            h('h4', { id: 'lookup-limits-heading', text: 'Limits and breaks' }),
            h('p', { class: 'muted small', text: 'Set by the bettor; read-only here.' }),
            limitsSummary(limits.value, { heading: 'h5' }),
          ),
        );
      } else {
        out.append(h('p', { class: 'error', role: 'alert', text: `Limits: ${limits.reason.message}` }));
      }
      if (bets.status === 'fulfilled') {
        const page = bets.value;
        out.append(h('h4', { text: `Latest bets (${page.total} in all)` }), page.items.length ? await betTable(page.items) : h('p', { class: 'empty', text: 'No bets.' }));
      } else {
        out.append(h('p', { class: 'error', role: 'alert', text: `Bets: ${bets.reason.message}` }));
      }
      if (ledger.status === 'fulfilled') {
        const page = ledger.value;
        out.append(
          h('h4', { text: `Latest ledger entries (${page.total} in all)` }),
          page.items.length ? h('div', { class: 'table-holder' }, ledgerTable(page.items)) : h('p', { class: 'empty', text: 'No ledger entries.' }),
        );
      } else {
        out.append(h('p', { class: 'error', role: 'alert', text: `Ledger: ${ledger.reason.message}` }));
      }
    } catch (err) {
      if (err.code === 'user_not_found') fieldError(form, id, 'There is no account with this number.');
      else error.show(err);
    }
  });
  return form;
}

export function render(section, { token, role }) {
  section.append(can(role, 'deposit') ? h('div', { class: 'two-col' }, creditForm(token), lookupForm(token)) : lookupForm(token));
}
