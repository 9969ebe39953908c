// Owner and admin operators: create an operator account (email, password,
// role), list the operators, change one's role, disable or enable one, and
// reset another's password. A new role, a disable or a reset ends the
// operator's sessions at once (the server does it); the page says so before
// and after.
import * as api from '../api.js';
import { confirmAction } from '../confirm.js';
import { append, field, h } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, showFieldErrors, statusBox } from '../errors.js';
import { formatDateTime } from '../format.js';
import { pager } from '../pager.js';
import { OPERATOR_ROLES } from '../roles.js';
import { currentOperator, forgetOperator } from '../session.js';
import { PASSWORD_MAX, PASSWORD_MIN } from './password.js';

const PAGE_SIZE = 20;
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

// Forgets this browser's operator session, ending it on the server too if
// it is still valid there (one the change just ended is refused: fine).
async function signOutHere(token) {
  await api.signOut(token).catch(() => {});
  forgetOperator();
  location.hash = '#operator';
}

// One operator's row: its role as a select with "Change role", and
// "Disable" or "Enable". Each asks first, and names what it does.
function operatorRow(token, op, { onChanged, status, error }) {
  const me = currentOperator();
  const itself = me?.id === op.id;
  const label = `${op.email} (#${op.id})`;
  const role = h('select', { 'aria-label': `Role of ${op.email}` }, OPERATOR_ROLES.map((r) => h('option', { value: r, text: r })));
  role.value = op.role;
  const changeRole = h('button', { type: 'button', class: 'secondary', text: 'Change role', disabled: true });
  role.addEventListener('change', () => {
    changeRole.disabled = role.value === op.role;
  });
  const toggle = h('button', { type: 'button', class: op.disabled_at ? 'secondary' : 'secondary danger', text: op.disabled_at ? 'Enable' : 'Disable' });

  async function change(body, question) {
    error.clear();
    status.clear();
    if (!(await confirmAction(question))) return;
    changeRole.disabled = true;
    toggle.disabled = true;
    try {
      const updated = await api.changeOperator(token, op.id, body);
      const what = updated.disabled_at ? 'disabled' : `now ${updated.role}`;
      // What the server did, not what was asked: the row may be stale (another
      // admin changed the operator meanwhile).
      const endedSessions = updated.role !== op.role || (!op.disabled_at && updated.disabled_at !== null);
      status.show(`${updated.email} is ${what}.${endedSessions ? ' Their sessions have ended.' : ''}`);
      // An admin who changed itself has just ended its own session.
      if (itself && endedSessions) {
        await signOutHere(token);
        return;
      }
      onChanged(op.id);
    } catch (err) {
      error.show(err);
      // A 503 may come after the change was made: show the operator as it is.
      onChanged(op.id);
    }
  }

  changeRole.addEventListener('click', () =>
    change(
      { role: role.value },
      {
        title: `Make ${label} ${role.value}?`,
        lines: [`Their sessions end at once: they sign in again to act as ${role.value}.`, itself ? 'This is you: you will be signed out.' : ''].filter(Boolean),
        acceptText: 'Change role',
        className: 'operator-confirm',
      },
    ),
  );
  toggle.addEventListener('click', () =>
    op.disabled_at
      ? change({ disabled: false }, { title: `Enable ${label}?`, lines: ['They can sign in again; their old sessions stay ended.'], acceptText: 'Enable', className: 'operator-confirm' })
      : change(
          { disabled: true },
          {
            title: `Disable ${label}?`,
            lines: ['Their sessions end at once, on every server, and they cannot sign in until enabled again.', itself ? 'This is you: you will be signed out.' : ''].filter(Boolean),
            acceptText: 'Disable',
            className: 'operator-confirm',
          },
        ),
  );

  // Another operator's password (after a leak): asked for in the dialog.
  // One's own is changed with the current one, on the page's "Your password".
  const reset = itself ? null : h('button', { type: 'button', class: 'secondary', text: 'Reset password' });
  reset?.addEventListener('click', async () => {
    error.clear();
    status.clear();
    const password = h('input', { type: 'password', name: 'new_password', autocomplete: 'new-password' });
    const asked = {
      title: `Reset the password of ${label}?`,
      lines: ['Every session of theirs ends at once; only the new password signs in. Give it to them out of band.'],
      body: field('New password', password, `${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`),
      acceptText: 'Reset password',
      className: 'operator-confirm',
    };
    if (!(await confirmAction(asked))) return;
    const length = [...password.value].length;
    if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
      error.show(`A password of ${PASSWORD_MIN} to ${PASSWORD_MAX} characters is needed; nothing was changed.`);
      onChanged(op.id);
      return;
    }
    reset.disabled = true;
    try {
      await api.changeOperatorPassword(op.id, token, undefined, password.value);
      status.show(`The password of ${op.email} was reset. Their sessions have ended.`);
    } catch (err) {
      error.show(err);
    }
    onChanged(op.id);
  });

  return h(
    'tr',
    { 'data-operator': String(op.id), class: op.disabled_at ? 'disabled' : '' },
    h('td', { 'data-label': 'Operator', text: `#${op.id}` }),
    h('td', { 'data-label': 'Email', text: op.email }),
    h('td', { 'data-label': 'Role' }, h('div', { class: 'inline-controls' }, role, changeRole)),
    h('td', { 'data-label': 'Created' }, h('time', { datetime: op.created_at, text: formatDateTime(op.created_at) })),
    h(
      'td',
      { 'data-label': 'Status' },
      h('span', { class: 'operator-state', text: op.disabled_at ? `Disabled ${formatDateTime(op.disabled_at)}` : 'Active' }),
      ' ',
      toggle,
      reset ? ' ' : null,
      reset,
    ),
  );
}

function operatorList(token) {
  const error = errorBox();
  const status = statusBox();
  const holder = h('div', { class: 'table-holder' });
  let offset = 0;
  const pages = pager('Operators pages', (next) => {
    offset = next;
    load();
  });
  const el = h('section', { class: 'card', 'aria-labelledby': 'operators-heading' }, h('h3', { id: 'operators-heading', text: 'Operators' }), error.el, status.el, holder, pages.el);
  // `focusOn`: the operator whose row had the focus (its dialog closed, its
  // row redrawn): the focus goes back to that row, not to the page's top.
  async function load(focusOn) {
    error.clear();
    try {
      const page = await api.listOperators(token, { limit: PAGE_SIZE, offset });
      const rows = page.items.map((op) => operatorRow(token, op, { onChanged: load, status, error }));
      holder.replaceChildren();
      append(holder, [
        rows.length
          ? h(
              'table',
              { class: 'data stack operators' },
              h('thead', {}, h('tr', {}, ['Operator', 'Email', 'Role', 'Created', 'Status'].map((t) => h('th', { scope: 'col', text: t })))),
              h('tbody', {}, rows),
            )
          : h('p', { class: 'empty', text: 'No operators yet.' }),
      ]);
      pages.update(page);
      if (focusOn !== undefined) holder.querySelector(`tr[data-operator="${focusOn}"] td:last-child button`)?.focus();
    } catch (err) {
      error.show(err);
    }
  }
  load();
  return { el, load };
}

export function render(section, { token }) {
  const list = operatorList(token);
  // One above the other: the list's five columns need the page's width.
  section.append(createForm(token, () => list.load()), list.el);
}
