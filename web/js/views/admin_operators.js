// Owner and admin operators: create an operator account (email, password,
// role), and see the operators created so far (from the audit log: the API
// has no list of operators).
import * as api from '../api.js';
import { append, field, h } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, showFieldErrors, statusBox } from '../errors.js';
import { formatDateTime } from '../format.js';
import { OPERATOR_ROLES } from '../roles.js';

const PASSWORD_MIN = 8;
const PASSWORD_MAX = 128;
const LISTED = 100; // the audit log's largest page
const ROLE_HINT = 'admin: everything the owner may do · trader: matches, odds, limits, suspension, results, exposure · support: users, their bets and ledgers';

function createForm(token, onCreated) {
  const email = h('input', { type: 'email', name: 'email', 'data-field': 'email', autocomplete: 'off', required: true });
  const password = h('input', { type: 'password', name: 'password', 'data-field': 'password', autocomplete: 'new-password', required: true });
  const role = h('select', { name: 'role', 'data-field': 'role' }, OPERATOR_ROLES.map((r) => h('option', { value: r, text: r })));
  role.value = 'trader';
  const error = errorBox();
  const status = statusBox();
  const form = h(
    'form',
    { class: 'card form', 'aria-labelledby': 'new-operator-heading', novalidate: true },
    h('h3', { id: 'new-operator-heading', text: 'New operator' }),
    field('Operator email', email),
    field('Operator password', password, `${PASSWORD_MIN} to ${PASSWORD_MAX} characters. Give it to the operator safely.`),
    field('Role', role, ROLE_HINT),
    error.el,
    h('button', { type: 'submit', class: 'primary', text: 'Create operator' }),
    status.el,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.clear();
    status.clear();
    clearFieldErrors(form);
    if (!email.value.trim()) return fieldError(form, email, 'Enter the operator’s email address.');
    const length = [...password.value].length;
    if (length < PASSWORD_MIN || length > PASSWORD_MAX) return fieldError(form, password, `A password of ${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`);
    try {
      const op = await api.createOperator(token, { email: email.value.trim(), password: password.value, role: role.value });
      status.show(`Created operator #${op.id}: ${op.email} (${op.role}).`);
      email.value = '';
      password.value = '';
      onCreated();
    } catch (err) {
      if (err.code === 'email_taken') fieldError(form, email, 'A user or operator with this email already exists.');
      else showFieldErrors(form, err, error);
    }
  });
  return form;
}

function operatorList(token) {
  const error = errorBox();
  const holder = h('div', { class: 'table-holder' });
  const el = h('section', { class: 'card', 'aria-labelledby': 'operators-heading' }, h('h3', { id: 'operators-heading', text: 'Operators' }), error.el, holder);
  async function load() {
    error.clear();
    try {
      const page = await api.auditLog(token, { action: 'operator.create', limit: LISTED });
      const rows = page.items.map((entry) =>
        h(
          'tr',
          { 'data-target': entry.target },
          h('td', { 'data-label': 'Operator', text: `#${entry.target.replace(/^operator:/, '')}` }),
          h('td', { 'data-label': 'Email', text: entry.details?.email ?? '–' }),
          h('td', { 'data-label': 'Role', text: entry.details?.role ?? '–' }),
          h('td', { 'data-label': 'Created' }, h('time', { datetime: entry.at, text: formatDateTime(entry.at) })),
        ),
      );
      holder.replaceChildren();
      append(holder, [
        rows.length
          ? h(
              'table',
              { class: 'data stack operators' },
              h('thead', {}, h('tr', {}, ['Operator', 'Email', 'Role', 'Created'].map((t) => h('th', { scope: 'col', text: t })))),
              h('tbody', {}, rows),
            )
          : h('p', { class: 'empty', text: 'No operators yet.' }),
        page.total > page.items.length ? h('p', { class: 'muted small', text: `The latest ${page.items.length} of ${page.total}; the audit log has them all.` }) : null,
      ]);
    } catch (err) {
      error.show(err);
    }
  }
  load();
  return { el, load };
}

export function render(section, { token }) {
  const list = operatorList(token);
  section.append(h('div', { class: 'two-col' }, createForm(token, () => list.load()), list.el));
}
