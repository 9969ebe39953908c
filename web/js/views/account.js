// The bettor's account: sign up (optionally with a password; the sign-up
// token is shown once and kept in this browser), sign in (#account/signin),
// the account's details, the bettor's limits and breaks (limits.js), the
// password (password.js), and signing out.
import * as api from '../api.js';
import { field, h } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, showFieldErrors, statusBox } from '../errors.js';
import { formatDateTime } from '../format.js';
import { formatCash } from '../money.js';
import { currentUser, saveUser } from '../session.js';
import { refreshCart, refreshUser, state } from '../state.js';
import { breakSection, limitsSection } from './limits.js';
import { PASSWORD_MAX, PASSWORD_MIN, passwordChangeForm } from './password.js';
import { signInForms } from './signin.js';
import { signOutControls } from './signout.js';

function tokenNotice(user, token) {
  const tokenField = h('input', { type: 'text', readonly: true, value: token, class: 'token', 'aria-label': 'Your token', spellcheck: 'false' });
  const copied = h('span', { class: 'status', role: 'status' });
  const copy = h('button', {
    type: 'button',
    class: 'secondary',
    text: 'Copy token',
    onclick: async () => {
      tokenField.select();
      try {
        await navigator.clipboard.writeText(token);
        copied.textContent = 'Copied.';
      } catch {
        copied.textContent = 'Select the text and copy it.';
      }
    },
  });
  return h(
    'section',
    { class: 'token-notice', 'aria-labelledby': 'token-heading' },
    h('h2', { id: 'token-heading', text: `Welcome, ${user.name}!` }),
    h('p', {}, 'Your account number is ', h('strong', { class: 'user-id', text: `#${user.id}` }), '. This is your token. It is shown ', h('strong', { text: 'only this once' }), '; this browser keeps it for you. Copy it somewhere safe to use your account on another device.'),
    h('div', { class: 'token-row' }, tokenField, copy, copied),
  );
}

function signUpForm(onDone) {
  const email = h('input', { type: 'email', name: 'email', 'data-field': 'email', autocomplete: 'email', required: true });
  const name = h('input', { type: 'text', name: 'name', 'data-field': 'name', autocomplete: 'name', required: true, maxlength: 100 });
  const password = h('input', { type: 'password', name: 'password', 'data-field': 'password', autocomplete: 'new-password' });
  const error = errorBox();
  const button = h('button', { type: 'submit', class: 'primary', text: 'Sign up' });
  const form = h(
    'form',
    { class: 'card form', 'aria-labelledby': 'signup-heading', novalidate: true },
    h('h2', { id: 'signup-heading', text: 'Sign up' }),
    field('Email', email),
    field('Name', name),
    field('Password (optional)', password, `${PASSWORD_MIN} to ${PASSWORD_MAX} characters. With one you can sign in with your email on any device.`),
    error.el,
    button,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.clear();
    clearFieldErrors(form);
    if (!email.value.trim()) return fieldError(form, email, 'Enter your email address.');
    if (!name.value.trim()) return fieldError(form, name, 'Enter your name.');
    const length = [...password.value].length;
    if (length && (length < PASSWORD_MIN || length > PASSWORD_MAX)) {
      return fieldError(form, password, `A password of ${PASSWORD_MIN} to ${PASSWORD_MAX} characters, or none.`);
    }
    button.disabled = true;
    try {
      const created = await api.signUp(email.value.trim(), name.value.trim(), password.value || undefined);
      saveUser({ id: created.id, token: created.token, name: created.name, email: created.email, kind: 'signup' });
      onDone(created);
    } catch (err) {
      if (err.code === 'email_taken') fieldError(form, email, 'An account with this email already exists.');
      else if (err.code === 'too_many_requests') error.show(err, { attempts: 'sign-ups from your network' });
      else showFieldErrors(form, err, error);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// Links between the two signed-out views.
function signedOutNav(current) {
  const link = (href, text, key) => h('li', {}, h('a', { href, text, 'aria-current': key === current ? 'page' : false }));
  return h('nav', { class: 'subnav', 'aria-label': 'Account' }, h('ul', {}, link('#account', 'Sign up', 'signup'), link('#account/signin', 'Sign in', 'signin')));
}

export function render(main, ctx) {
  main.append(h('h1', { tabindex: '-1', text: 'Account' }));
  const body = h('div', { class: 'account' });
  main.append(body);

  function showSignedOut(note) {
    const status = statusBox();
    if (note) status.show(note);
    const onSignedIn = async () => {
      await refreshUser().catch(() => {});
      showSignedIn(null);
    };
    if (ctx.sub === 'signin') {
      body.replaceChildren(signedOutNav('signin'), status.el, signInForms(onSignedIn));
      return;
    }
    body.replaceChildren(
      signedOutNav('signup'),
      status.el,
      h('p', {}, 'Sign up to bet. Your browser keeps the token that identifies you; a password is optional and lets you sign in on other devices.'),
      h(
        'div',
        { class: 'two-col' },
        signUpForm(async (created) => {
          await refreshUser().catch(() => {});
          showSignedIn(tokenNotice(created, created.token));
        }),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'have-account-heading' },
          h('h2', { id: 'have-account-heading', text: 'Already have an account?' }),
          h('p', {}, 'Sign in with your email and password, or with your account number and token.'),
          h('a', { class: 'button-link', href: '#account/signin', text: 'Sign in to your account' }),
        ),
      ),
    );
  }

  async function showSignedIn(notice) {
    const session = currentUser();
    const error = errorBox();
    const details = h('dl', { class: 'details' });
    body.replaceChildren(
      notice ?? '',
      h('section', { class: 'card', 'aria-labelledby': 'me-heading' }, h('h2', { id: 'me-heading', text: 'Your account' }), details, error.el),
      h('p', { class: 'muted' }, 'New accounts start with a balance of 0.00; the operator credits deposits.'),
      h('p', {}, h('a', { class: 'button-link', href: '#matches', text: 'Browse matches' })),
      limitsSection(session, { onCleanup: ctx.onCleanup }),
      breakSection(session, { onCleanup: ctx.onCleanup }),
      passwordChangeForm({
        headingId: 'password-heading',
        heading: 'Your password',
        currentHint: 'Leave it empty if you signed up without a password: this sets your first one.',
        change: (current, next) => api.changeUserPassword(session.id, session.token, current, next),
      }),
      signOutControls(session, showSignedOut),
    );
    try {
      const user = state.user ?? (await refreshUser());
      details.replaceChildren(
        h('dt', { text: 'Account number' }),
        h('dd', { class: 'user-id', text: `#${user.id}` }),
        h('dt', { text: 'Name' }),
        h('dd', { text: user.name }),
        h('dt', { text: 'Email' }),
        h('dd', { text: user.email }),
        h('dt', { text: 'Balance' }),
        h('dd', { class: 'balance', text: formatCash(user.balance) }),
        h('dt', { text: 'Member since' }),
        h('dd', { text: formatDateTime(user.created_at) }),
        ...(session.expiresAt ? [h('dt', { text: 'Signed in until' }), h('dd', { class: 'expires', text: formatDateTime(session.expiresAt) })] : []),
      );
      refreshCart().catch(() => {});
    } catch (err) {
      error.show(err);
      details.replaceChildren(h('dt', { text: 'Account number' }), h('dd', { class: 'user-id', text: `#${session.id}` }));
    }
  }

  if (currentUser()) showSignedIn(null);
  else showSignedOut();
}
