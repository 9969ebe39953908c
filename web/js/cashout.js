// Cash-out of a pending bet (API.md Part 2, "Cash-out"): "Cash out" asks for
// a quote, the offer is shown with a countdown to its expiry, and "Accept"
// takes it (with an Idempotency-Key, so a retry after a lost answer cannot
// cash out twice). Refusals show the server's detail next to the bet.
import * as api from './api.js';
import { h } from './dom.js';
import { errorBox, messageFor } from './errors.js';
import { formatCash } from './money.js';

const TICK_MS = 250;

// Said when the server gives no detail.
const FALLBACKS = {
  cash_out_unavailable: 'Cash-out is not available for this bet right now.',
  quote_expired: 'This offer has expired. Nothing was cashed out; get a new offer.',
  odds_changed: 'The prices moved since the offer was made. Nothing was cashed out; get a new offer.',
  already_settled: 'This bet is no longer pending: it is settled or cashed out already.',
};

export function cashOutMessage(error) {
  return error.detail || FALLBACKS[error.code] || messageFor(error);
}

// The control for one pending bet. onCashedOut(bet) gets the cashed-out bet.
export function cashOutControl(bet, { token, onCashedOut }) {
  const quoteButton = h('button', { type: 'button', class: 'secondary cash-out-button' });
  const offer = h('div', { class: 'cash-out-offer', hidden: true });
  const error = errorBox();
  const el = h('div', { class: 'cash-out', 'data-bet-id': bet.id }, quoteButton, offer, error.el);
  let timer = null;
  let current = null; // {quote, key, expiresAt}

  // "Cash out", "Get a new offer"...; the bet's number for screen readers.
  function labelQuoteButton(text) {
    quoteButton.textContent = text;
    quoteButton.setAttribute('aria-label', text === 'Cash out' ? `Cash out bet #${bet.id}` : `${text} for bet #${bet.id}`);
  }
  labelQuoteButton('Cash out');

  // A button disabled while its request runs loses the focus to the page:
  // it goes to what the bettor acts on next, unless it went elsewhere.
  function focusIfLost(target) {
    if ((!document.activeElement || document.activeElement === document.body) && !target.hidden && !target.disabled) target.focus();
  }

  function stopTimer() {
    clearInterval(timer);
    timer = null;
  }

  function closeOffer() {
    stopTimer();
    current = null;
    offer.hidden = true;
    offer.replaceChildren();
  }

  function idle(text = 'Cash out') {
    closeOffer();
    quoteButton.hidden = false;
    quoteButton.disabled = false;
    labelQuoteButton(text);
  }

  quoteButton.addEventListener('click', async () => {
    error.clear();
    quoteButton.disabled = true;
    labelQuoteButton('Getting an offer…');
    try {
      const quote = await api.cashOutQuote(token, bet.id);
      showOffer(quote);
      focusIfLost(offer.querySelector('button'));
    } catch (err) {
      idle(err.code === 'cash_out_unavailable' ? 'Cash out' : 'Try again');
      error.show(err, { text: cashOutMessage(err) });
      focusIfLost(quoteButton);
    }
  });

  function showOffer(quote) {
    closeOffer();
    const amount = formatCash(quote.amount);
    current = { quote, key: api.newIdempotencyKey(), expiresAt: Date.parse(quote.expires_at) };
    const countdown = h('span', { class: 'countdown', role: 'timer' });
    const accept = h('button', { type: 'button', class: 'primary', text: `Accept ${amount}`, 'aria-label': `Accept ${amount} for bet #${bet.id}` });
    const cancel = h('button', { type: 'button', class: 'link', text: 'Cancel', 'aria-label': `Cancel the cash-out of bet #${bet.id}` });
    accept.addEventListener('click', () => take(accept));
    cancel.addEventListener('click', () => idle());
    offer.replaceChildren(
      h('p', {}, 'Cash out now for ', h('strong', { class: 'cash-out-amount', text: amount }), ' ', countdown),
      h('div', { class: 'actions' }, accept, cancel),
    );
    offer.hidden = false;
    quoteButton.hidden = true;
    const tick = () => {
      if (!el.isConnected && timer !== null) {
        stopTimer(); // the list was redrawn or the page left
        return;
      }
      if (Number.isNaN(current.expiresAt)) return; // no time given: no countdown
      const left = Math.ceil((current.expiresAt - Date.now()) / 1000);
      if (left > 0) {
        countdown.textContent = `(offer ends in ${left} s)`;
        return;
      }
      stopTimer();
      countdown.textContent = '(offer expired)';
      const hadFocus = document.activeElement === accept;
      accept.disabled = true;
      quoteButton.hidden = false;
      quoteButton.disabled = false;
      labelQuoteButton('Get a new offer');
      if (hadFocus) quoteButton.focus();
    };
    tick();
    if (!Number.isNaN(current.expiresAt)) timer = setInterval(tick, TICK_MS);
  }

  async function take(accept) {
    const { quote, key } = current;
    error.clear();
    accept.disabled = true;
    accept.textContent = 'Cashing out…';
    try {
      const cashed = await api.cashOut(token, bet.id, quote.quote_id, key);
      closeOffer();
      quoteButton.hidden = true;
      await onCashedOut(cashed);
    } catch (err) {
      if (err.status === 0) {
        // Unknown whether it went through: the same key replays, never repeats.
        accept.disabled = false;
        accept.textContent = `Accept ${formatCash(quote.amount)}`;
      } else if (err.code === 'already_settled') {
        closeOffer();
        quoteButton.hidden = true;
      } else {
        idle('Get a new offer');
      }
      error.show(err, { text: cashOutMessage(err) });
      if (!quoteButton.hidden) focusIfLost(quoteButton);
      else if (accept.isConnected) focusIfLost(accept);
    }
  }

  return el;
}
