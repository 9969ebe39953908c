// Turns an API error into a sentence a person can act on, and shows it next
// to the thing that caused it (a form field, a cart item, a button).
import { h } from './dom.js';
import { formatDateTime, formatWait } from './format.js';
import { formatCash, formatOdds } from './money.js';

const MESSAGES = {
  network_error: 'Could not reach the server. Check your connection and try again.',
  unauthorized: 'Your token was not accepted. Sign in again on the Account page.',
  forbidden: 'You are not allowed to do that with this token.',
  wrong_password: 'The current password is wrong. Nothing was changed.',
  not_found: 'Not found.',
  user_not_found: 'There is no user with that id.',
  match_not_found: 'That match does not exist.',
  bet_not_found: 'That bet does not exist.',
  item_not_found: 'That item is no longer in your cart.',
  email_taken: 'An account with this email already exists.',
  duplicate_match: 'This match (same teams and date) already exists.',
  duplicate_bet: 'You already have a bet on this selection of this match.',
  duplicate_item: 'This selection is already in your cart.',
  bet_in_progress: 'Another bet on this match is being placed right now. Try again in a moment.',
  checkout_in_progress: 'A checkout of this cart is already running. Wait a moment and refresh.',
  already_settled: 'This match is already settled with another result.',
  invalid_selection: 'This selection is not offered for the match (any more).',
  match_closed: 'This match is closed for betting.',
  match_suspended: 'Betting on this match is suspended for now. Try again later.',
  odds_changed: 'The price has changed since it was shown. Nothing was placed.',
  stake_above_max: 'This stake is above the maximum stake for this match.',
  liability_limit_exceeded: 'The bookmaker is not taking more of this bet on this match (its liability limit is reached). Try a smaller stake or another selection.',
  insufficient_funds: 'Insufficient funds: your balance does not cover these stakes.',
  cart_empty: 'Your cart is empty.',
  cart_full: 'Your cart is full (at most 50 selections).',
  idempotency_key_reused: 'This request was already sent with different content. Try again.',
  payload_too_large: 'That is too much data for one request.',
  service_unavailable: 'The service is temporarily unavailable. Try again shortly.',
  cash_out_unavailable: 'Cash-out is not available for this bet right now.',
  quote_expired: 'This cash-out offer has expired. Get a new one.',
  invalid_credentials: 'That email and password do not match an account.',
  too_many_requests: 'Too many attempts. Wait a while and try again.',
  self_excluded: 'Betting is paused on your account while your self-exclusion or time-out runs. Nothing was changed.',
  stake_limit_exceeded: 'This would take your stakes over one of your stake limits. Nothing was placed. Your limits are on the Account page.',
  deposit_limit_exceeded: 'This deposit would take your deposits over one of your deposit limits.',
};

// The same problems as the operator reads them (about a bettor's account).
const OPERATOR_MESSAGES = {
  self_excluded: 'This account is self-excluded or on a time-out: it takes no deposits or bets until that ends.',
  stake_limit_exceeded: 'This would take the account\'s stakes over one of its stake limits.',
  deposit_limit_exceeded: 'This deposit would take the account over one of its deposit limits. Nothing was credited.',
};

// Who reads the messages: the operator's page words a rejected token differently.
let audience = 'bettor';
export function setAudience(who) {
  audience = who;
}

// The readable message for an error; `context` may add figures, e.g.
// {balance, needed} for insufficient funds.
export function messageFor(error, context = {}) {
  if (!error || typeof error !== 'object') return String(error);
  if (error.code === 'insufficient_funds' && context.balance !== undefined && context.needed !== undefined) {
    return `Insufficient funds: your balance is ${formatCash(context.balance)} and these bets need ${formatCash(context.needed)}.`;
  }
  if (error.code === 'odds_changed') {
    // From a single bet: the problem's current_odds; from a cart item: the
    // price when it was added (previousOdds) and now (currentOdds).
    const now = error.currentOdds ?? null;
    const was = error.previousOdds ?? null;
    if (now !== null && was !== null) return `The price has changed from ${formatOdds(was)} to ${formatOdds(now)}. Nothing was placed.`;
    if (now !== null) return `The price has changed to ${formatOdds(now)}. Nothing was placed.`;
  }
  if (error.code === 'stake_above_max' && Number.isInteger(error.maxStake)) {
    return `This stake is above the maximum stake of ${formatCash(error.maxStake)} for this match.`;
  }
  if (error.code === 'liability_limit_exceeded' && audience === 'operator' && Number.isInteger(error.maxLiability)) {
    return `This would take the liability over the match's limit of ${formatCash(error.maxLiability)}.`;
  }
  if (error.code === 'validation_failed' && error.fieldErrors?.length) {
    return error.fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; ');
  }
  if (error.code === 'too_many_requests' && error.retryAfter !== null && error.retryAfter !== undefined) {
    return `Too many ${context.attempts ?? 'attempts'}. Try again in ${formatWait(error.retryAfter)}.`;
  }
  if (error.code === 'unauthorized' && audience === 'operator') {
    return 'Your operator sign-in was not accepted (it may have expired or been revoked). Sign out, or forget the admin token, and sign in again.';
  }
  if (error.code === 'forbidden' && audience === 'operator') {
    return 'Your operator role may not do that.';
  }
  if (error.code === 'self_excluded' && error.until) {
    const until = formatDateTime(error.until);
    return audience === 'operator'
      ? `This account is self-excluded or on a time-out until ${until}: it takes no deposits or bets until then.`
      : `Betting is paused on your account until ${until} (your self-exclusion or time-out). Nothing was changed.`;
  }
  if (audience === 'operator' && OPERATOR_MESSAGES[error.code]) return OPERATOR_MESSAGES[error.code];
  const known = MESSAGES[error.code];
  if (known) return known;
  return error.detail || error.title || error.message || 'Something went wrong.';
}

// A message box that can be placed anywhere; role=alert so screen readers hear it.
// context.text, when given, is shown instead of the standard message (the
// error's code is still recorded).
export function errorBox() {
  const el = h('p', { class: 'error', role: 'alert', hidden: true });
  return {
    el,
    show(error, context) {
      el.textContent = typeof error === 'string' ? error : (context?.text ?? messageFor(error, context));
      el.dataset.code = typeof error === 'string' ? '' : error.code || '';
      el.hidden = false;
    },
    clear() {
      el.textContent = '';
      el.hidden = true;
      delete el.dataset.code;
    },
  };
}

// A polite status line for successes and progress.
export function statusBox() {
  const el = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  return {
    el,
    show(text) {
      el.textContent = text;
    },
    clear() {
      el.textContent = '';
    },
  };
}

// Puts validation messages under the form's fields (matched by the API
// field name in data-field, e.g. "email" or "odds.1"). Returns true when at
// least one field took a message; the rest go to `fallback`.
export function showFieldErrors(form, error, fallback) {
  clearFieldErrors(form);
  const unplaced = [];
  for (const { field, message } of error.fieldErrors ?? []) {
    const input = form.querySelector(`[data-field="${CSS.escape(field)}"]`);
    if (!input) {
      unplaced.push(`${field}: ${message}`);
      continue;
    }
    const id = `${input.id}-error`;
    const note = h('p', { class: 'field-error', id, text: message });
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), id].filter(Boolean).join(' '));
    input.after(note);
  }
  if (fallback) {
    if (unplaced.length) fallback.show(unplaced.join('; '));
    else if (!(error.fieldErrors ?? []).length) fallback.show(error);
    else fallback.clear();
  }
}

export function clearFieldErrors(form) {
  for (const note of form.querySelectorAll('.field-error')) {
    const input = form.querySelector(`[aria-describedby~="${note.id}"]`);
    if (input) {
      input.removeAttribute('aria-invalid');
      const rest = input.getAttribute('aria-describedby').split(' ').filter((x) => x !== note.id);
      if (rest.length) input.setAttribute('aria-describedby', rest.join(' '));
      else input.removeAttribute('aria-describedby');
    }
    note.remove();
  }
}

// Marks a field as invalid with a message, for checks done in the browser.
export function fieldError(form, input, message) {
  showFieldErrors(form, { fieldErrors: [{ field: input.dataset.field, message }] });
}
