// Signing a bettor out. A password session is ended on the server (its
// token stops working everywhere). A sign-up or pasted token is the key to
// the account: it may be in use on other devices, and without a password it
// is the only way in, so by default it is only forgotten in this browser;
// revoking it is a separate, explained choice.
import * as api from '../api.js';
import { h } from '../dom.js';
import { errorBox } from '../errors.js';
import { forgetUser } from '../session.js';
import { signedOut } from '../state.js';

// Ends the session on the server: its token stops working everywhere. A
// token the server already refuses counts as ended.
async function revoke(session) {
  try {
    await api.signOut(session.token);
  } catch (err) {
    if (err.code !== 'unauthorized') throw err;
  }
}

// The sign-out button(s) for the signed-in bettor; done(message) runs once
// signed out.
export function signOutControls(session, done) {
  const error = errorBox();
  const act = (doRevoke) => async () => {
    error.clear();
    try {
      if (doRevoke) await revoke(session);
      forgetUser();
      signedOut();
      done(doRevoke ? 'Signed out. That sign-in no longer works anywhere.' : 'Signed out on this device.');
    } catch (err) {
      error.show(err);
    }
  };
  if (session.kind === 'session') {
    return h('div', { class: 'signout' }, h('button', { type: 'button', class: 'secondary', text: 'Sign out', onclick: act(true) }), error.el);
  }
  return h(
    'div',
    { class: 'signout' },
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', text: 'Sign out on this device', onclick: act(false) }),
      h('button', { type: 'button', class: 'secondary danger', text: 'Revoke this token', onclick: act(true) }),
    ),
    h('p', { class: 'hint', text: 'Revoking makes this token stop working on every device. Without a password you could not get back into this account.' }),
    error.el,
  );
}
