// Operator: find an account by email or name (owner, admin and support),
// credit an account (a deposit; owner and admin), showing whose account it
// is before any money moves, and look an account up with its limits, any
// self-exclusion or time-out (read-only: only the bettor may change them),
// its latest bets and ledger (owner, admin and support).
import * as api from '../api.js';
import { field, h } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, showFieldErrors, statusBox } from '../errors.js';
import { formatDateTime } from '../format.js';
import { limitsSummary } from '../limits.js';
import { formatMoney, parseMoney } from '../money.js';
import { pager } from '../pager.js';
import { can } from '../roles.js';
import { betTable } from './bets.js';
import { ledgerTable } from './ledger.js';

const LATEST = 20; // bets and ledger rows shown per look-up
const FOUND_PAGE = 10; // accounts per page of a search
const Q_MIN = 2;
const Q_MAX = 100;
const RECIPIENT_DELAY_MS = 250; // typing pauses this long before the look-up

function accountNumber(input) {
  const id = Number(input.value.trim().replace(/^#/, ''));
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

// "Ann Smith (#12)": how a button or message names an account.
const accountName = (user) => `${user.name} (#${user.id})`;

// Search: the start of an email or any part of a name. Each account found
// can be looked up, or chosen for a credit.
function findForm(token, { onLookUp, onCredit }) {
  const q = h('input', { type: 'search', name: 'q', 'data-field': 'q', autocomplete: 'off', maxlength: Q_MAX });
  const error = errorBox();
  const status = statusBox();
  const holder = h('div', { class: 'table-holder found-accounts' });
  const pages = pager('Account pages', (offset) => load(offset));
  pages.el.hidden = true; // until a search has answered
  const form = h(
    'form',
    { class: 'card form find-account', role: 'search', 'aria-labelledby': 'find-heading', novalidate: true },
    h('h3', { id: 'find-heading', text: 'Find an account' }),
    h('div', { class: 'inline' }, field('Email or name', q, 'The start of an email, or any part of a name. Empty: the newest accounts.'), h('button', { type: 'submit', class: 'secondary', text: 'Find' })),
    error.el,
    status.el,
    holder,
    pages.el,
  );
  let loads = 0; // answers to a superseded search are dropped
  let asked = '';
  async function load(offset) {
    error.clear();
    const mine = ++loads;
    holder.setAttribute('aria-busy', 'true');
    try {
      const page = await api.listUsers(token, { q: asked, limit: FOUND_PAGE, offset });
      if (mine !== loads) return;
      holder.replaceChildren(page.items.length ? accountTable(page.items, { onLookUp, onCredit }) : h('p', { class: 'empty', text: 'No account matches.' }));
      status.show(asked ? `${page.total} account${page.total === 1 ? '' : 's'} found for “${asked}”.` : `${page.total} account${page.total === 1 ? '' : 's'}, newest first.`);
      pages.update(page);
    } catch (err) {
      if (mine !== loads) return;
      holder.replaceChildren();
      if (err.code === 'validation_failed' || err.code === 'invalid_parameter') showFieldErrors(form, { fieldErrors: [{ field: 'q', message: err.detail || err.message }] });
      else error.show(err);
    } finally {
      if (mine === loads) holder.removeAttribute('aria-busy');
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    status.clear();
    const text = q.value.trim();
    const length = [...text].length;
    if (length && (length < Q_MIN || length > Q_MAX)) return fieldError(form, q, `Type at least ${Q_MIN} characters (at most ${Q_MAX}), or nothing for the newest accounts.`);
    asked = text;
    load(0);
  });
  return form;
}

function accountTable(users, { onLookUp, onCredit }) {
  const rows = users.map((user) =>
    h(
      'tr',
      { 'data-user-id': user.id },
      h('td', { 'data-label': 'Account', class: 'account-id', text: `#${user.id}` }),
      h('td', { 'data-label': 'Name', class: 'account-name', text: user.name }),
      h('td', { 'data-label': 'Email', class: 'account-email', text: user.email }),
      h('td', { 'data-label': 'Balance', class: 'num', text: formatMoney(user.balance) }),
      h(
        'td',
        { 'data-label': 'Actions' },
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', class: 'secondary', text: 'Look up', 'aria-label': `Look up ${accountName(user)}`, onclick: () => onLookUp(user) }),
          onCredit ? h('button', { type: 'button', class: 'secondary', text: 'Credit', 'aria-label': `Credit ${accountName(user)}`, onclick: () => onCredit(user) }) : null,
        ),
      ),
    ),
  );
  return h(
    'table',
    { class: 'data stack accounts' },
    h('caption', { class: 'visually-hidden', text: 'Accounts found' }),
    h('thead', {}, h('tr', {}, ['Account', 'Name', 'Email', 'Balance', 'Actions'].map((t) => h('th', { scope: 'col', class: t === 'Balance' ? 'num' : null, text: t })))),
    h('tbody', {}, rows),
  );
}

// The deposit form. Whose account the number is shows as soon as it is
// typed (name and email), and "Credit" stays disabled until it does, so no
// money moves to an account the operator has not seen.
function creditForm(token) {
  const id = h('input', { type: 'text', inputmode: 'numeric', name: 'user_id', 'data-field': 'user_id', autocomplete: 'off', size: 8 });
  const amount = h('input', { type: 'text', inputmode: 'decimal', name: 'amount', 'data-field': 'amount', autocomplete: 'off', size: 10 });
  const recipientBox = h('div', { class: 'recipient', id: 'credit-recipient', role: 'status', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'primary', text: 'Credit', disabled: true, 'aria-describedby': 'credit-recipient' });
  const error = errorBox();
  const status = statusBox();
  const form = h(
    'form',
    { class: 'card form', 'aria-labelledby': 'credit-heading', novalidate: true },
    h('h3', { id: 'credit-heading', text: 'Credit an account' }),
    field('Account number', id),
    recipientBox,
    field('Amount', amount, 'e.g. 100.00'),
    error.el,
    button,
    status.el,
  );
  let recipient = null; // the account the number in the field belongs to
  let asking = 0;
  let timer = null;
  // The keys of deposits whose answer never came (no answer, a 5xx, a lost
  // session: each may have been made), by "account:cents". Asking for the
  // same deposit again reuses its key, so the server credits it at most once;
  // a key goes once a deposit under it is answered.
  const unanswered = new Map();

  const showRecipient = (user, balance = user.balance) => {
    recipient = user;
    recipientBox.dataset.userId = String(user.id);
    recipientBox.replaceChildren(
      h('span', { class: 'recipient-line' }, h('span', { class: 'muted', text: 'Credits ' }), h('strong', { class: 'recipient-name', text: user.name }), h('span', { class: 'muted', text: ` · account #${user.id}` })),
      h('span', { class: 'recipient-line' }, h('span', { class: 'recipient-email', text: user.email }), h('span', { class: 'muted', text: ' · balance ' }), h('span', { class: 'recipient-balance', text: formatMoney(balance) })),
    );
    sync();
  };
  const clearRecipient = (text = '') => {
    recipient = null;
    delete recipientBox.dataset.userId;
    recipientBox.replaceChildren(text ? h('span', { class: 'muted', text }) : '');
    sync();
  };
  // Credit only to the account shown, and only while the field still names it.
  const sync = () => {
    button.disabled = !recipient || recipient.id !== accountNumber(id);
  };

  async function lookUp() {
    clearTimeout(timer);
    const userId = accountNumber(id);
    const mine = ++asking;
    if (recipient && recipient.id === userId) return;
    clearRecipient();
    if (!id.value.trim()) return;
    if (!userId) {
      clearRecipient('Not an account number.');
      return;
    }
    clearRecipient('Finding the account…');
    try {
      const user = await api.getUser(userId, token);
      if (mine !== asking) return;
      clearFieldErrors(form);
      showRecipient(user);
    } catch (err) {
      if (mine !== asking) return;
      clearRecipient();
      if (err.code === 'user_not_found') fieldError(form, id, 'There is no account with this number.');
      else error.show(err);
    }
  }

  id.addEventListener('input', () => {
    error.clear();
    status.clear();
    clearFieldErrors(form);
    sync();
    clearTimeout(timer);
    timer = setTimeout(lookUp, RECIPIENT_DELAY_MS);
  });
  id.addEventListener('change', lookUp);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.clear();
    status.clear();
    clearFieldErrors(form);
    const userId = accountNumber(id);
    if (!userId) return fieldError(form, id, 'Enter an account number, e.g. 7.');
    if (!recipient || recipient.id !== userId) return lookUp();
    const cents = parseMoney(amount.value);
    if (cents === null || cents <= 0) return fieldError(form, amount, 'Enter an amount such as 100.00.');
    const to = recipient;
    button.disabled = true;
    const pending = `${to.id}:${cents}`;
    const key = unanswered.get(pending) ?? api.newIdempotencyKey();
    try {
      const answer = await api.deposit(token, to.id, cents, key);
      unanswered.delete(pending);
      if (answer.replayed) {
        status.show(`Already credited: ${formatMoney(cents)} to account #${to.id} was made by an earlier press whose answer was lost. Nothing more was credited; press Credit again for a new deposit.`);
        const now = await api.getUser(to.id, token).catch(() => null);
        if (now && recipient?.id === to.id) showRecipient(now);
        return;
      }
      status.show(`Credited ${formatMoney(cents)} to account #${to.id}. Balance is now ${formatMoney(answer.balance)}.`);
      if (recipient?.id === to.id) showRecipient(to, answer.balance);
      amount.value = '';
    } catch (err) {
      // A refusal (4xx but a lost session) means nothing was made under the key.
      if (err.status === 0 || err.status === 401 || err.status >= 500) unanswered.set(pending, key);
      else unanswered.delete(pending);
      if (err.code === 'user_not_found') fieldError(form, id, 'There is no account with this number.');
      else showFieldErrors(form, err, error);
    } finally {
      sync();
    }
  });

  return {
    el: form,
    // An account chosen from a search: its number in the field, shown, and
    // the amount next.
    choose(user) {
      error.clear();
      status.clear();
      clearFieldErrors(form);
      clearTimeout(timer);
      asking += 1;
      id.value = String(user.id);
      showRecipient(user);
      form.scrollIntoView({ block: 'nearest' });
      amount.focus();
    },
  };
}

function lookupForm(token) {
  const id = h('input', { type: 'text', inputmode: 'numeric', name: 'user_id', 'data-field': 'user_id', autocomplete: 'off', size: 8 });
  const error = errorBox();
  const out = h('div', { class: 'lookup' });
  const form = h(
    'form',
    { class: 'card form', 'aria-labelledby': 'lookup-heading', novalidate: true },
    h('h3', { id: 'lookup-heading', tabindex: '-1', text: 'Look up an account' }),
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
  return {
    el: form,
    // An account chosen from a search: looked up at once.
    show(userId) {
      id.value = String(userId);
      form.requestSubmit();
      form.scrollIntoView({ block: 'start' });
      form.querySelector('h3').focus({ preventScroll: true });
    },
  };
}

export function render(section, { token, role }) {
  const lookup = lookupForm(token);
  const credit = can(role, 'deposit') ? creditForm(token) : null;
  const find = findForm(token, { onLookUp: (user) => lookup.show(user.id), onCredit: credit ? (user) => credit.choose(user) : null });
  section.append(find, credit ? h('div', { class: 'two-col' }, credit.el, lookup.el) : lookup.el);
}
