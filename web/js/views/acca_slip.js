// The bet slip's accumulator: the cart's selections as the legs of one bet.
// Shows the combined odds and the potential payout as the legs and the stake
// change (exact, see acca.js), and places the bet with POST /v1/bets {legs}.
// A leg whose price moved is asked about, as a single is; other refusals are
// shown with the leg they are about.
import * as api from '../api.js';
import { accaPayout, formatCombinedOdds, legProblems, MAX_PAYOUT } from '../acca.js';
import { field, h } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, messageFor, showFieldErrors } from '../errors.js';
import { selectionLabel } from '../format.js';
import { formatCash, formatOdds, parseMoney } from '../money.js';
import { confirmNewPrices, priceSetting } from '../prices.js';
import { pauseControl } from '../limits.js';
import { bettingPause, refreshUser, state } from '../state.js';

const MODE_KEY = 'betsdb.slipMode';
const STAKE_KEY = 'betsdb.defaultStake'; // the matches page's stake, a first guess
const REPRICE_ROUNDS = 3; // questions about moving prices before giving up

// Kept across clicks only after a network failure, when we cannot know whether
// the bet went through: the retry then replays instead of betting twice.
let pendingAcca = null; // {body (JSON text), key}
let stakeText = null; // what the bettor typed, kept across redraws

// "singles" (one bet per cart item, as the cart always was) or "accumulator".
export function slipMode() {
  return localStorage.getItem(MODE_KEY) === 'accumulator' ? 'accumulator' : 'singles';
}

// Radio buttons choosing the slip's mode, kept in this browser; onSwitch(mode).
export function modeChooser(onSwitch) {
  const choices = [
    ['singles', 'Singles', 'one bet per selection'],
    ['accumulator', 'Accumulator', 'one bet on all the selections'],
  ];
  return h(
    'fieldset',
    { class: 'slip-mode' },
    h('legend', { text: 'Bet type' }),
    choices.map(([value, text, hint]) => {
      const id = `slip-mode-${value}`;
      const change = () => {
        localStorage.setItem(MODE_KEY, value);
        onSwitch(value);
      };
      return h(
        'div',
        { class: 'check' },
        h('input', { type: 'radio', name: 'slip-mode', id, value, checked: slipMode() === value, onchange: change }),
        h('label', { for: id }, text, h('span', { class: 'muted', text: ` (${hint})` })),
      );
    }),
  );
}

export function matchTitle(match, matchId) {
  return match ? `${match.team_1} v ${match.team_2}` : `Match #${matchId}`;
}

// "Draw, Arsenal v Chelsea"
export function legLabel(leg, match) {
  return `${selectionLabel(leg.selection, match)}, ${matchTitle(match, leg.match_id)}`;
}

// The receipt line of a placed accumulator, with its legs.
export function accaReceiptItem(bet, matches) {
  return h(
    'li',
    { class: 'acca-receipt' },
    `Accumulator of ${bet.legs.length} at ${formatOdds(bet.odds)}, stake ${formatCash(bet.stake)}, potential payout ${formatCash(bet.potential_payout)}`,
    h('ul', {}, bet.legs.map((leg) => h('li', { text: `${legLabel(leg, matches.get(leg.match_id))} at ${formatOdds(leg.odds)}` }))),
  );
}

// {el, priceSlot, update(items, matches), clear()}. onPlaced(bet, items) runs
// after the bet is placed, with the cart items that became its legs.
// settled() resolves once the cart's changes on their way are on screen.
export function accaSlip({ user, onPlaced, settled }) {
  const headingId = 'acca-heading';
  const count = h('p', { class: 'acca-count muted' });
  const problems = h('div', { class: 'acca-problems' });
  const stakeInput = h('input', {
    type: 'text',
    inputmode: 'decimal',
    name: 'stake',
    'data-field': 'stake',
    autocomplete: 'off',
    size: 8,
    value: stakeText ?? (localStorage.getItem(STAKE_KEY) || '10.00'),
  });
  const form = h('form', { class: 'acca-stake' }, field('Accumulator stake', stakeInput, 'One stake on all the legs together.'));
  const odds = h('dd', { class: 'acca-odds' });
  const payout = h('dd', { class: 'acca-payout' });
  const balance = h('dd', { class: 'acca-balance' });
  const totals = h('dl', { class: 'totals' }, h('dt', { text: 'Combined odds' }), odds, h('dt', { text: 'Potential payout' }), payout, h('dt', { text: 'Your balance' }), balance);
  const priceSlot = h('div', { class: 'price-slot' });
  const error = errorBox();
  const button = h('button', { type: 'submit', class: 'primary', text: 'Place accumulator' });
  form.append(totals, priceSlot, error.el, h('div', { class: 'actions' }, button));
  const el = h('section', { class: 'acca-slip', 'aria-labelledby': headingId }, h('h2', { id: headingId, text: 'Accumulator' }), count, problems, form);

  let items = [];
  let matches = new Map();
  let placing = false;

  const labelOf = (item) => legLabel(item, matches.get(item.match_id));

  // The figures for the stake as typed; '–' where they cannot be worked out.
  function refresh() {
    const blocked = legProblems(items, labelOf).length > 0;
    const legOdds = items.map((i) => i.odds);
    const stake = parseMoney(stakeInput.value);
    odds.textContent = blocked ? '–' : formatCombinedOdds(legOdds);
    payout.textContent = blocked || stake === null || stake <= 0 ? '–' : formatCash(accaPayout(stake, legOdds));
    balance.textContent = state.user ? formatCash(state.user.balance) : '–';
    // Also disabled, saying why, while the bettor's betting is paused.
    pauseControl(button, bettingPause(), blocked || placing);
  }

  stakeInput.addEventListener('input', () => {
    stakeText = stakeInput.value;
    clearFieldErrors(form); // a message about the last value is stale now
    refresh();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });

  async function submit() {
    if (placing) return;
    error.clear();
    clearFieldErrors(form);
    const stake = parseMoney(stakeInput.value);
    if (stake === null || stake <= 0) {
      fieldError(form, stakeInput, 'Enter a stake such as 10.00.');
      stakeInput.focus();
      return;
    }
    if (accaPayout(stake, items.map((i) => i.odds)) > MAX_PAYOUT) {
      fieldError(form, stakeInput, `The potential payout would be above the maximum of ${formatCash(MAX_PAYOUT)}; lower the stake.`);
      return;
    }
    const legs = items.map((i) => ({ match_id: i.match_id, selection: i.selection, odds: i.odds }));
    const legItems = items.slice();
    placing = true;
    button.textContent = 'Placing accumulator…';
    refresh();
    try {
      // A Remove just before the click may not be drawn yet: the legs on
      // screen would still name the selection removed. Placed only if the
      // legs, once the cart is drawn, are still those, at those prices.
      await settled();
      const same = items.length === legItems.length && items.every((i, n) => i.item_id === legItems[n].item_id && i.odds === legItems[n].odds);
      if (!same) {
        error.show('Nothing was placed: your selections changed meanwhile. Check the accumulator, then place again.');
        return;
      }
      await place(legs, stake, legItems, REPRICE_ROUNDS);
    } finally {
      placing = false;
      button.textContent = 'Place accumulator';
      refresh();
      // Disabled while placing, the button lost the focus to the page: it
      // gets it back, beside the refusal, unless the focus went on (to the
      // receipt's heading, a field named by an error).
      if ((!document.activeElement || document.activeElement === document.body) && !button.disabled) button.focus();
    }
  }

  // Places the bet with the legs' prices as given; a moved price is asked
  // about and, on yes, the bet is tried again with that leg at the new price.
  async function place(legs, stake, legItems, roundsLeft) {
    const body = { user_id: user.id, legs, stake, accept_price_change: priceSetting() };
    const text = JSON.stringify(body);
    const key = pendingAcca?.body === text ? pendingAcca.key : api.newIdempotencyKey();
    let bet;
    try {
      bet = await api.placeBet(user.token, body, key);
      pendingAcca = null;
    } catch (err) {
      pendingAcca = err.status === 0 ? { body: text, key } : null;
      const leg = legs.find((l) => l.match_id === err.matchId) ?? null;
      if (err.code === 'odds_changed' && leg && err.currentOdds !== null && roundsLeft > 0) {
        const label = legLabel(leg, matches.get(leg.match_id));
        const yes = await confirmNewPrices({
          title: 'The price has changed',
          lines: [`${label}: ${formatOdds(leg.odds)} → ${formatOdds(err.currentOdds)}`],
          acceptText: 'Accept new price',
        });
        if (yes) {
          const repriced = legs.map((l) => (l === leg ? { ...l, odds: err.currentOdds } : l));
          return place(repriced, stake, legItems, roundsLeft - 1);
        }
      }
      await showRefusal(err, leg, stake);
      return;
    }
    await onPlaced(bet, legItems);
  }

  // The refusal in words, prefixed by the leg it is about; the server's
  // detail where it says more than the code.
  async function showRefusal(err, leg, stake) {
    const prefix = leg ? `${legLabel(leg, matches.get(leg.match_id))}: ` : '';
    if (err.code === 'validation_failed' && err.fieldErrors.length) {
      // "legs[1].odds" -> that leg's name; "stake" goes under the stake field.
      const named = err.fieldErrors.map((fe) => {
        const m = /^legs\[(\d+)\]/.exec(fe.field);
        const l = m ? items[Number(m[1])] : null;
        return l ? { field: `${labelOf(l)} (${fe.field})`, message: fe.message } : fe;
      });
      showFieldErrors(form, { fieldErrors: named }, error);
      return;
    }
    let text = err.detail || messageFor(err);
    if (err.code === 'odds_changed') text = messageFor({ code: err.code, currentOdds: err.currentOdds, previousOdds: leg?.odds ?? null });
    if (err.code === 'stake_above_max' && err.maxStake !== null) text = `${text} This match's maximum stake is ${formatCash(err.maxStake)}.`;
    if (err.code === 'duplicate_bet') text = 'You already have a pending accumulator on exactly these selections.';
    if (err.code === 'insufficient_funds') {
      const now = await refreshUser().then((u) => u?.balance).catch(() => undefined);
      if (now !== undefined) text = `Insufficient funds: your balance is ${formatCash(now)} and this accumulator needs ${formatCash(stake)}.`;
    }
    error.show(err, { text: `${prefix}${text}` });
  }

  return {
    el,
    priceSlot,
    // The cart's items (in the order they were added) and their matches by id.
    update(nextItems, nextMatches) {
      items = nextItems;
      matches = nextMatches;
      const notes = legProblems(items, labelOf);
      count.textContent = `${items.length} leg${items.length === 1 ? '' : 's'}`;
      problems.replaceChildren(...notes.map((text) => h('p', { class: 'notice', text })));
      refresh();
    },
    clear() {
      error.clear();
      clearFieldErrors(form);
    },
  };
}
