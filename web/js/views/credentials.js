// A sign-in form: email and password against POST /v1/sessions, shared by
// the bettor's Account page and the Operator page. The answer's role says
// whose account it is; a session of the wrong kind for the page is ended at
// once and the person is sent to the right page.
import * as api from '../api.js';
import { field, h } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, showFieldErrors } from '../errors.js';

const WRONG_PAGE = {
  user: 'This is an operator account. Sign in on the Operator page.',
  operator: 'This is a bettor account. Sign in on the Account page.',
};

// expect: "user" (bettors) or "operator". onSignedIn(session, email) gets
// the POST /v1/sessions answer and the email (lower-cased, as the server
// keeps it); it may throw, and its error is shown.
export function credentialsForm({ headingId, heading, intro, button, expect, onSignedIn }) {
  const email = h('input', { type: 'email', name: 'email', 'data-field': 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', 'data-field': 'password', autocomplete: 'current-password', required: true });
  const error = errorBox();
  const submit = h('button', { type: 'submit', class: 'primary', text: button });
  const form = h(
    'form',
    { class: 'card form signin-form', 'aria-labelledby': headingId, novalidate: true },
    h('h2', { id: headingId, text: heading }),
    intro ? h('p', { class: 'muted small', text: intro }) : null,
    field('Email', email),
    field('Password', password),
    error.el,
    submit,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.clear();
    clearFieldErrors(form);
    if (!email.value.trim()) return fieldError(form, email, 'Enter your email address.');
    if (!password.value) return fieldError(form, password, 'Enter your password.');
    submit.disabled = true;
    try {
      const session = await api.signIn(email.value.trim(), password.value);
      const isUser = session.role === 'user';
      if (isUser !== (expect === 'user')) {
        api.signOut(session.token).catch(() => {});
        error.show(WRONG_PAGE[expect]);
        return;
      }
      password.value = '';
      await onSignedIn(session, email.value.trim().toLowerCase());
    } catch (err) {
      if (err.code === 'invalid_credentials') {
        password.value = '';
        error.show(err);
      } else if (err.code === 'too_many_requests') {
        error.show(err, { attempts: 'failed sign-ins for this email' });
      } else {
        showFieldErrors(form, err, error);
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
