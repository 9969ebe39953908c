// Sign up (the token is shown once and kept in this browser), sign in with
// an existing id and token, or sign out.
import * as api from '../api.js';
import { field, h } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, showFieldErrors } from '../errors.js';
import { formatDateTime } from '../format.js';
import { formatMoney } from '../money.js';
import { currentUser, forgetUser, saveUser } from '../session.js';
import { refreshCart, refreshUser, signedOut, state } from '../state.js';

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
  const error = errorBox();
  const button = h('button', { type: 'submit', class: 'primary', text: 'Sign up' });
  const form = h('form', { class: 'card form', 'aria-labelledby': 'signup-heading', novalidate: true }, h('h2', { id: 'signup-heading', text: 'Sign up' }), field('Email', email), field('Name', name), error.el, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.clear();
    clearFieldErrors(form);
    if (!email.value.trim()) return fieldError(form, email, 'Enter your email address.');
    if (!name.value.trim()) return fieldError(form, name, 'Enter your name.');
    button.disabled = true;
    try {
      const created = await api.signUp(email.value.trim(), name.value.trim());
      saveUser({ id: created.id, token: created.token, name: created.name, email: created.email });
      onDone(created);
    } catch (err) {
      if (err.code === 'email_taken') fieldError(form, email, 'An account with this email already exists.');
      else showFieldErrors(form, err, error);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function signInForm(onDone) {
  const id = h('input', { type: 'text', inputmode: 'numeric', name: 'user_id', 'data-field': 'user_id', autocomplete: 'username', required: true, size: 8 });
  const token = h('input', { type: 'password', name: 'token', 'data-field': 'token', autocomplete: 'current-password', required: true });
  const error = errorBox();
  const form = h(
    'form',
    { class: 'card form', 'aria-labelledby': 'signin-heading', novalidate: true },
    h('h2', { id: 'signin-heading', text: 'Already have a token?' }),
    field('Account number', id),
    field('Token', token),
    error.el,
    h('button', { type: 'submit', class: 'secondary', text: 'Sign in' }),
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
      saveUser({ id: user.id, token: token.value.trim(), name: user.name, email: user.email });
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

export function render(main) {
  main.append(h('h1', { tabindex: '-1', text: 'Account' }));
  const body = h('div', { class: 'account' });
  main.append(body);

  function showSignedOut() {
    body.replaceChildren(
      h('p', {}, 'Sign up to bet. Your browser keeps the token that identifies you; no password needed.'),
      h(
        'div',
        { class: 'two-col' },
        signUpForm(async (created) => {
          await refreshUser().catch(() => {});
          showSignedIn(tokenNotice(created, created.token));
        }),
        signInForm(async () => {
          await refreshUser().catch(() => {});
          showSignedIn(null);
        }),
      ),
    );
  }

  async function showSignedIn(notice) {
    const session = currentUser();
    const error = errorBox();
    const details = h('dl', { class: 'details' });
    const signOut = h('button', {
      type: 'button',
      class: 'secondary',
      text: 'Sign out on this device',
      onclick: () => {
        forgetUser();
        signedOut();
        showSignedOut();
      },
    });
    body.replaceChildren(
      notice ?? '',
      h('section', { class: 'card', 'aria-labelledby': 'me-heading' }, h('h2', { id: 'me-heading', text: 'Your account' }), details, error.el),
      h('p', { class: 'muted' }, 'New accounts start with a balance of 0.00; the operator credits deposits.'),
      h('p', {}, h('a', { class: 'button-link', href: '#matches', text: 'Browse matches' })),
      signOut,
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
        h('dd', { class: 'balance', text: formatMoney(user.balance) }),
        h('dt', { text: 'Member since' }),
        h('dd', { text: formatDateTime(user.created_at) }),
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
