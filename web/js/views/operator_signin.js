// The Operator page's sign-in: an operator's email and password (the
// answer's role says which pages they get), or, for the owner, the admin
// token from the server configuration.
import { field, h } from '../dom.js';
import { errorBox } from '../errors.js';
import { saveAdminToken, saveOperator } from '../session.js';
import { credentialsForm } from './credentials.js';

function adminTokenForm(onSaved) {
  const input = h('input', { type: 'password', name: 'admin_token', 'data-field': 'admin_token', autocomplete: 'off', required: true });
  const error = errorBox();
  const form = h(
    'form',
    { class: 'card form', 'aria-labelledby': 'admin-token-heading' },
    h('h2', { id: 'admin-token-heading', text: 'Owner sign-in' }),
    h('p', {}, 'Or enter the admin token from the server configuration (', h('code', { text: 'BETSDB_ADMIN_TOKEN' }), '). This browser keeps it until you forget it.'),
    field('Admin token', input),
    error.el,
    h('button', { type: 'submit', class: 'secondary', text: 'Use this token' }),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!input.value.trim()) {
      error.show('Enter the admin token.');
      return;
    }
    saveAdminToken(input.value.trim());
    onSaved();
  });
  return form;
}

export function operatorSignIn(onSignedIn) {
  const withPassword = credentialsForm({
    headingId: 'operator-signin-heading',
    heading: 'Operator sign-in',
    intro: 'With the email and password of your operator account.',
    button: 'Sign in',
    expect: 'operator',
    onSignedIn: (session, email) => {
      saveOperator({ token: session.token, role: session.role, id: session.operator_id, email, expiresAt: session.expires_at });
      onSignedIn();
    },
  });
  return h('div', { class: 'two-col' }, withPassword, adminTokenForm(onSignedIn));
}
