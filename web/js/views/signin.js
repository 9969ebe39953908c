// The bettor's ways in: email and password (a session that lasts 30 days),
// or an account number with its token (e.g. the sign-up token copied from
// another device).
import * as api from '../api.js';
import { field, h } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError } from '../errors.js';
import { saveUser } from '../session.js';
import { credentialsForm } from './credentials.js';

function tokenForm(onDone) {
  const id = h('input', { type: 'text', inputmode: 'numeric', name: 'user_id', 'data-field': 'user_id', autocomplete: 'off', required: true, size: 8 });
  const token = h('input', { type: 'password', name: 'token', 'data-field': 'token', autocomplete: 'off', required: true });
  const error = errorBox();
  const form = h(
    'form',
    { class: 'form', 'aria-label': 'Sign in with a token', novalidate: true },
    field('Account number', id),
    field('Token', token),
    error.el,
    h('button', { type: 'submit', class: 'secondary', text: 'Sign in with this token' }),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.clear();
    clearFieldErrors(form);
    const userId = Number(id.value.trim().replace(/^#/, ''));
    if (!Number.isSafeInteger(userId) || userId <= 0) return fieldError(form, id, 'Enter your account number, e.g. 7.');
    if (!token.value.trim()) return fieldError(form, token, 'Enter your token.');
    try {
      const user = await api.getUser(userId, token.value.trim());
      saveUser({ id: user.id, token: token.value.trim(), name: user.name, email: user.email, kind: 'token' });
      onDone(user);
    } catch (err) {
      if (err.code === 'unauthorized' || err.code === 'forbidden' || err.code === 'user_not_found') {
        error.show('That account number and token do not match.');
      } else {
        error.show(err);
      }
    }
  });
  return form;
}

// The sign-in forms; onDone() runs once the bettor is signed in.
export function signInForms(onDone) {
  const withPassword = credentialsForm({
    headingId: 'signin-heading',
    heading: 'Sign in',
    intro: 'With the email and password of your account.',
    button: 'Sign in',
    expect: 'user',
    onSignedIn: async (session) => {
      const user = await api.getUser(session.user_id, session.token);
      saveUser({ id: user.id, token: session.token, name: user.name, email: user.email, kind: 'session', expiresAt: session.expires_at });
      onDone(user);
    },
  });
  const withToken = h(
    'details',
    { class: 'card token-signin' },
    h('summary', { text: 'No password? Sign in with your account number and token' }),
    tokenForm(onDone),
  );
  return h('div', { class: 'two-col' }, withPassword, withToken);
}
