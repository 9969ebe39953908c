// The cart: selections waiting to become bets. Stakes can be edited, items
// removed; the page shows the total, the potential return and when the cart
// expires, and checks out all items at once (all or nothing), or places one
// item as a bet on its own ("Bet now"). Both send the bettor's price-change
// setting; when a price moved the bettor is asked before anything is placed
// at the new price. The bettor may instead make the selections the legs of
// one accumulator (acca_slip.js); the choice is kept in this browser.
// While the bettor's self-exclusion or time-out runs, every control that
// changes the cart or places a bet is disabled, its title saying until when.
//
// The same panel, compact, is the bet slip beside the matches (slip.js).
//
// The stake placed is the stake shown: a stake is saved as it is typed (a
// moment after the last key), when the field is left, and by "Update stake";
// placing first saves every stake still waiting, refuses while one is not a
// valid amount (saying so next to it), and places nothing when the cart on
// the server holds anything other than what the screen shows.
import * as api from '../api.js';
import { field, h, uid } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, statusBox } from '../errors.js';
import { formatDateTime, formatDuration, selectionLabel } from '../format.js';
import { formatCash, formatMoney, formatOdds, oddsHundredths, parseMoney, potentialPayout } from '../money.js';
import { closePriceDialog, confirmNewPrices, priceSetting, priceSettingField } from '../prices.js';
import { currentUser } from '../session.js';
import { pauseControl } from '../limits.js';
import {
  bettingPause, cartChangesSettled, changeCart, freshMatch, matchById, onChange, refreshCart, refreshHeld, refreshUser, setBalance, setCart, state,
} from '../state.js';
import { accaReceiptItem, accaSlip, modeChooser, slipMode } from './acca_slip.js';

// Kept across clicks only after a network failure, when we cannot know whether
// the checkout went through: the retry then replays instead of acting twice.
let pendingCheckoutKey = null;
// The same for a single bet: {body (JSON text), key}.
let pendingBet = null;

// How many times in a row the bettor is asked about prices that keep moving
// while the cart takes the accepted ones, before giving up with a message.
const REPRICE_ROUNDS = 3;
// A typed stake is saved this long after the last key press.
const SAVE_DELAY_MS = 600;

const samePrice = (a, b) => a !== null && a !== undefined && b !== null && b !== undefined && oddsHundredths(a) === oddsHundredths(b);

export function render(main, ctx) {
  const user = currentUser();
  main.append(h('h1', { tabindex: '-1', text: 'Your cart' }));
  if (!user) {
    main.append(h('p', { class: 'notice' }, h('a', { href: '#account', text: 'Sign up or sign in' }), ' to fill a cart.'));
    return;
  }
  const panel = cartPanel({ user, onCleanup: ctx.onCleanup });
  main.append(panel.el);
}

// The cart as a panel: {el}. compact: the bet slip's form (singles only, no
// expiry, no "Bet now", the price setting as chosen in the cart). Its match
// titles are h2 (h3 when compact, under the slip's h2).
export function cartPanel({ user, compact = false, onCleanup }) {
  const titleTag = compact ? 'h3' : 'h2';
  const pageError = errorBox();
  const status = statusBox();
  const list = h('ul', { class: 'cart-list', 'aria-label': compact ? 'Selections' : 'Cart items' });
  const totals = h('dl', { class: 'totals' });
  const checkoutError = errorBox();
  // Never disabled while it has focus (a disabled button drops it): a click
  // before the cart is on screen or while placing does nothing;
  // aria-disabled says so.
  const checkoutButton = h('button', { type: 'button', class: 'primary place-bets', text: 'Place bets', 'aria-disabled': 'true' });
  const emptyButton = compact ? null : h('button', { type: 'button', class: 'secondary', text: 'Empty cart' });
  const priceField = compact ? null : priceSettingField();
  const receiptHeadingId = uid('receipt');
  const receipt = h('section', { class: 'receipt', 'aria-labelledby': receiptHeadingId, hidden: true });
  const actions = h(
    'div',
    { class: 'checkout' },
    totals,
    priceField?.el,
    checkoutError.el,
    h('div', { class: 'actions' }, checkoutButton, emptyButton),
  );
  const moreLink = compact
    ? h('p', { class: 'slip-more small' }, h('a', { href: '#cart', text: 'Open the cart' }), ' for an accumulator, “Bet now” and your price-change setting.')
    : null;
  const acca = compact ? null : accaSlip({ user, onPlaced: accaPlaced, settled: () => settled() });
  const el = h(
    'div',
    { class: compact ? 'cart-panel compact' : 'cart-panel' },
    status.el,
    pageError.el,
    compact ? null : modeChooser(switchMode),
    list,
    actions,
    acca?.el,
    receipt,
    moreLink,
  );
  showMode();

  const rows = new Map(); // item_id -> row (see itemRow)
  let placing = false;
  let drawnCart = null; // the state.cart the rows show
  // The pause the cart was last drawn with ('' for none): when a pause
  // starts or ends, the cart is drawn again (the server empties it when one
  // starts).
  let drawnPause = null;
  onCleanup(
    onChange(() => {
      if (drawnPause !== null && (bettingPause()?.text ?? '') !== drawnPause) {
        drawnPause = null;
        refreshCart().catch(() => {}).finally(() => draw());
        return;
      }
      // The cart changed elsewhere (an odds button, another panel): show it.
      if (state.cart && state.cart !== drawnCart) draw();
      else showTotals();
    }),
  );

  checkoutButton.addEventListener('click', () => checkout());
  emptyButton?.addEventListener('click', async () => {
    if (placing) return;
    clearErrors();
    try {
      await changeCart(async () => {
        await api.emptyCart(user.id, user.token);
        await refreshCart();
        await draw();
      });
      status.show('Your cart is now empty.');
      focusEmpty();
    } catch (error) {
      checkoutError.show(error);
    }
  });

  function clearErrors() {
    pageError.clear();
    checkoutError.clear();
    acca?.clear();
    for (const row of rows.values()) row.error.clear();
  }

  async function switchMode() {
    clearErrors();
    await draw();
  }

  const singles = () => compact || slipMode() === 'singles';

  // One cart item, drawn once and updated in place on every redraw, so a
  // stake being typed, the caret and the focus survive changes elsewhere.
  function itemRow(item) {
    const error = errorBox();
    const stakeInput = h('input', {
      type: 'text',
      inputmode: 'decimal',
      name: 'stake',
      'data-field': 'stake',
      value: formatMoney(item.stake),
      autocomplete: 'off',
      size: 8,
    });
    const context = h('span', { class: 'visually-hidden' });
    const update = compact ? null : h('button', { type: 'submit', class: 'secondary', text: 'Update stake' });
    const saveState = h('p', { class: 'save-state small muted' });
    const form = h('form', { class: 'stake-edit' }, field(['Stake', context], stakeInput), update, saveState);
    const title = h(titleTag, { class: 'match-title' });
    const pickName = h('strong');
    const price = h('strong', { class: 'price' });
    const moved = h('span', { class: 'price-moved' });
    const when = h('span', { class: 'muted' });
    const suspendedTag = h('span', { class: 'tag status-suspended', text: 'Suspended' });
    const suspendedNote = h('p', { class: 'muted small', text: 'Betting on this match is suspended for now.' });
    const limitNote = h('p', { class: 'muted small limit-note' });
    const payoutValue = h('strong');
    const payout = h('p', { class: 'payout' }, 'Potential return ', payoutValue);
    const remove = h('button', { type: 'button', class: 'link danger remove', text: 'Remove' });
    const betNow = compact ? null : h('button', { type: 'button', class: 'secondary bet-now', text: 'Bet now' });
    const code = h('span');
    // Compact: Remove beside the title, the return beside the stake.
    if (compact) form.insertBefore(payout, saveState);
    const li = h(
      'li',
      { class: 'card cart-item', 'data-item-id': item.item_id },
      h('div', { class: 'item-head' }, title, compact ? remove : null),
      h('p', { class: 'pick' }, pickName, code, price, moved, when, ' ', suspendedTag),
      suspendedNote,
      limitNote,
      form,
      compact ? null : payout,
      compact ? null : h('div', { class: 'actions item-actions' }, betNow, remove),
      error.el,
    );
    const row = {
      el: li,
      error,
      input: stakeInput,
      remove,
      item,
      match: null,
      label: '',
      savedStake: item.stake,
      timer: 0,
      saving: null, // the save under way, a promise
      // The stake on screen in cents; null when it is not an amount.
      stake() {
        const cents = parseMoney(stakeInput.value);
        return cents !== null && cents > 0 ? cents : null;
      },
      // Whether the stake on screen is not (yet) the one in the cart.
      pending() {
        return row.stake() !== row.savedStake;
      },
      set(next, match) {
        row.item = next;
        row.match = match;
        const teams = match ? `${match.team_1} v ${match.team_2}` : `Match #${next.match_id}`;
        row.title = teams;
        row.label = `${selectionLabel(next.selection, match)}, ${teams}`;
        li.dataset.status = match?.status ?? '';
        title.textContent = teams;
        pickName.textContent = selectionLabel(next.selection, match);
        code.textContent = ` (${next.selection}) at `;
        price.textContent = next.odds === null ? 'no longer offered' : formatOdds(next.odds);
        const hasMoved = next.odds !== null && next.odds_at_add !== null && next.odds_at_add !== undefined && !samePrice(next.odds, next.odds_at_add);
        moved.textContent = hasMoved ? ` (was ${formatOdds(next.odds_at_add)} when added)` : '';
        when.replaceChildren(...(match ? [' · ', h('time', { datetime: match.date, text: formatDateTime(match.date) })] : []));
        const suspended = match?.status === 'suspended';
        suspendedTag.hidden = !suspended;
        suspendedNote.hidden = !suspended;
        limitNote.hidden = !Number.isInteger(match?.max_stake);
        limitNote.textContent = limitNote.hidden ? '' : `Maximum stake ${formatCash(match.max_stake)}`;
        context.textContent = ` on ${row.label}`;
        remove.setAttribute('aria-label', `Remove ${row.label}`);
        betNow?.setAttribute('aria-label', `Bet now on ${row.label}`);
        // A stake the bettor is not changing shows what the cart holds.
        const wasShowingSaved = !row.pending();
        row.savedStake = next.stake;
        if (wasShowingSaved && row.stake() !== next.stake && document.activeElement !== stakeInput) stakeInput.value = formatMoney(next.stake);
        // As a leg of an accumulator an item has no stake or bet of its own.
        form.hidden = !singles();
        payout.hidden = !singles();
        if (betNow) betNow.hidden = !singles();
        const pause = bettingPause();
        if (betNow) pauseControl(betNow, pause, next.odds === null || suspended);
        if (update) pauseControl(update, pause);
        pauseControl(remove, pause);
        stakeInput.readOnly = Boolean(pause);
        row.showStake();
      },
      // The figures for the stake as typed.
      showStake() {
        const cents = row.stake();
        payoutValue.textContent = cents === null || row.item.odds === null ? '–' : formatCash(potentialPayout(cents, row.item.odds));
        if (row.saving) saveState.textContent = 'Saving…';
        else if (row.pending()) saveState.textContent = cents === null ? 'Not saved: not an amount.' : 'Not saved yet.';
        else saveState.textContent = '';
      },
      // Saves the stake on screen. true when the cart now holds it; false
      // (with a message by the field) when it is not an amount or the
      // server refused it.
      async save({ quiet = false } = {}) {
        clearTimeout(row.timer);
        if (row.saving) await row.saving.catch(() => {});
        clearFieldErrors(form);
        if (!row.pending()) return true;
        const cents = row.stake();
        if (cents === null) {
          fieldError(form, stakeInput, 'Enter a stake such as 10.00.');
          row.showStake();
          return false;
        }
        row.saving = api.updateCartItem(user.id, user.token, row.item.item_id, { stake: cents });
        row.showStake();
        try {
          await row.saving;
          row.savedStake = cents;
          row.error.clear();
        } catch (err) {
          row.error.show(err);
          return false;
        } finally {
          row.saving = null;
          row.showStake();
        }
        if (!quiet) {
          await refreshCart().catch(() => {});
          showTotals();
        }
        return true;
      },
    };
    stakeInput.addEventListener('input', () => {
      clearFieldErrors(form);
      row.showStake();
      showTotals();
      clearTimeout(row.timer);
      if (row.pending() && row.stake() !== null) row.timer = setTimeout(() => row.save(), SAVE_DELAY_MS);
    });
    // Left with a new amount: saved now. (Not an amount: the line under the
    // field says so already; a message inserted now would move the button
    // being clicked, since a click's mousedown is what leaves the field.)
    stakeInput.addEventListener('change', () => {
      if (row.pending() && row.stake() !== null) row.save();
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (placing) return;
      clearErrors();
      const wanted = row.stake();
      const saved = row.pending() ? await row.save() : true;
      if (!saved) return;
      if (wanted !== null) {
        stakeInput.value = formatMoney(wanted);
        row.showStake();
        // After the totals, so they already agree with what it says.
        status.show(`Stake on ${row.title} is now ${formatCash(wanted)}.`);
      }
    });
    remove.addEventListener('click', async () => {
      if (placing) return;
      clearErrors();
      // Focus goes to the next item's Remove (else the previous one's, else
      // the empty cart's note): near where the bettor acted.
      const order = [...rows.values()];
      const at = order.indexOf(row);
      const neighbour = order[at + 1] ?? order[at - 1] ?? null;
      try {
        await changeCart(async () => {
          await api.removeCartItem(user.id, user.token, row.item.item_id);
          clearTimeout(row.timer);
          await refreshCart();
          await draw();
        });
        status.show(`Removed ${row.title} from your ${compact ? 'slip' : 'cart'}.`);
        if (neighbour && rows.get(neighbour.item.item_id) === neighbour) neighbour.remove.focus();
        else focusEmpty();
      } catch (err) {
        error.show(err);
      }
    });
    // The price on screen is the one the bettor agrees to.
    betNow?.addEventListener('click', async () => {
      if (placing) return;
      if (!(await row.save())) return;
      placeSingle(row, row.item.odds);
    });
    return row;
  }

  // One item as a bet on its own, at the price shown (`odds`). When the
  // price moved and the setting refuses it, the bettor is asked; yes places
  // it at the new price, sending that price, so a further move is caught too.
  async function placeSingle(row, odds) {
    clearErrors();
    status.clear();
    const { item, match, label } = row;
    const body = {
      user_id: user.id,
      match_id: item.match_id,
      selection: item.selection,
      stake: row.savedStake,
      odds,
      accept_price_change: priceSetting(),
    };
    const text = JSON.stringify(body);
    const key = pendingBet?.body === text ? pendingBet.key : api.newIdempotencyKey();
    let bet;
    try {
      bet = await api.placeBet(user.token, body, key);
      pendingBet = null;
    } catch (err) {
      pendingBet = err.status === 0 ? { body: text, key } : null;
      if (err.code === 'odds_changed' && err.currentOdds !== null) {
        const yes = await confirmNewPrices({
          title: 'The price has changed',
          lines: [`${label}: ${formatOdds(odds)} → ${formatOdds(err.currentOdds)}`],
          acceptText: `Bet at ${formatOdds(err.currentOdds)}`,
        });
        if (yes) return placeSingle(row, err.currentOdds);
        row.error.show(err);
        return;
      }
      if (err.code === 'insufficient_funds') {
        const balance = await refreshUser().then((u) => u?.balance).catch(() => undefined);
        row.error.show(err, { balance, needed: body.stake });
      } else {
        row.error.show(err);
      }
      return;
    }
    // Placed: the item has done its job.
    await api.removeCartItem(user.id, user.token, item.item_id).catch(() => {});
    await Promise.all([refreshCart(), refreshUser()]).catch(() => {});
    refreshHeld().catch(() => {});
    await draw();
    await showReceipt({ bets: [bet] }, 'Bet placed');
    const note = samePrice(bet.odds, odds) ? '' : ` (the price moved from ${formatOdds(odds)})`;
    status.show(`Placed ${selectionLabel(item.selection, match)}, ${row.title} at ${formatOdds(bet.odds)}${note}, stake ${formatCash(bet.stake)}.`);
  }

  // The stakes as on screen: {total, payout, invalid} (payout of the items
  // still offered; invalid: how many stakes are not amounts).
  function screenFigures() {
    let total = 0;
    let payout = 0;
    let invalid = 0;
    for (const row of rows.values()) {
      const cents = row.stake();
      if (cents === null) {
        invalid += 1;
        continue;
      }
      total += cents;
      if (row.item.odds !== null) payout += potentialPayout(cents, row.item.odds);
    }
    return { total, payout, invalid };
  }

  function showTotals() {
    const cart = drawnCart;
    if (!cart) return;
    const { total, payout, invalid } = screenFigures();
    const balance = state.user?.balance;
    const shown = (cents) => (invalid ? '–' : formatCash(cents));
    const after = balance === undefined || invalid ? null : balance - total;
    const parts = [
      h('dt', { text: 'Total stake' }),
      h('dd', { class: 'total-stake', text: shown(total) }),
      h('dt', { text: 'Potential return' }),
      h('dd', { class: 'total-payout', text: shown(payout) }),
    ];
    if (!compact) parts.push(h('dt', { text: 'Your balance' }), h('dd', { class: 'balance', text: balance === undefined ? '–' : formatCash(balance) }));
    parts.push(
      h('dt', { text: 'Balance after these bets' }),
      h('dd', { class: `balance-after${after !== null && after < 0 ? ' short' : ''}`, text: after === null ? '–' : formatCash(after) }),
    );
    if (!compact) {
      const expires = new Date(Date.now() + cart.expires_in * 1000);
      parts.push(
        h('dt', { text: 'Cart expires' }),
        h('dd', { class: 'expires' }, `in ${formatDuration(cart.expires_in)} `, h('span', { class: 'muted' }, '(', h('time', { datetime: expires.toISOString(), text: formatDateTime(expires.toISOString()) }), ')')),
      );
    }
    if (singles() && after !== null && after < 0 && rows.size) {
      parts.push(h('dd', { class: 'short-note', text: `Your balance is ${formatCash(-after)} short of these stakes.` }));
    }
    totals.replaceChildren(...parts);
  }

  function focusEmpty() {
    const empty = list.querySelector('li.empty');
    if (empty) {
      empty.tabIndex = -1;
      empty.focus();
    }
  }

  // Draws the cart as state.cart has it. fresh: read each match afresh
  // (whether it is suspended changes); otherwise as this page knows it.
  // Resolves once the rows show the newest cart (a draw overtaken by a
  // later one waits for that one).
  let draws = 0;
  let drawing = Promise.resolve();
  function draw(options) {
    const mine = ++draws;
    const done = drawNow(mine, options).then((applied) => (applied ? undefined : drawing));
    drawing = done;
    return done;
  }
  // Once every cart change on its way has been drawn.
  async function settled() {
    await cartChangesSettled();
    await drawing;
  }
  async function drawNow(mine, { fresh = !compact } = {}) {
    const cart = state.cart;
    if (!cart) return true;
    const ids = [...new Set(cart.items.map((i) => i.match_id))];
    const read = (id) => (fresh ? freshMatch(id).catch(() => matchById(id)) : matchById(id)).catch(() => null);
    const matches = new Map(await Promise.all(ids.map(async (id) => [id, await read(id)])));
    if (mine !== draws) return false; // a newer draw is on its way
    drawnCart = cart;
    const keep = new Set(cart.items.map((i) => i.item_id));
    for (const [id, row] of rows) {
      if (!keep.has(id)) {
        clearTimeout(row.timer);
        row.el.remove();
        rows.delete(id);
      }
    }
    list.querySelector(':scope > li.empty')?.remove();
    let before = list.firstElementChild;
    for (const item of cart.items) {
      let row = rows.get(item.item_id);
      if (!row) {
        row = itemRow(item);
        rows.set(item.item_id, row);
      }
      row.set(item, matches.get(item.match_id) ?? null);
      // Moved only when out of place: moving a node takes its focus away.
      if (row.el !== before) list.insertBefore(row.el, before);
      else before = before.nextElementSibling;
    }
    // Rows follow the cart's order (Map order is insertion order).
    const ordered = new Map(cart.items.map((i) => [i.item_id, rows.get(i.item_id)]));
    rows.clear();
    for (const [id, row] of ordered) rows.set(id, row);
    if (!cart.items.length) {
      list.append(
        h('li', { class: 'empty' }, compact ? 'Your slip is empty. Tap the odds of a match to add it. ' : 'Your cart is empty. ', compact ? null : [h('a', { href: '#matches', text: 'Pick some odds' }), '.']),
      );
    }
    showTotals();
    const pause = bettingPause();
    drawnPause = pause?.text ?? '';
    pauseControl(checkoutButton, pause, !cart.items.length);
    checkoutButton.setAttribute('aria-disabled', String(placing || !cart.items.length));
    if (emptyButton) pauseControl(emptyButton, pause, !cart.items.length);
    showMode();
    acca?.update(cart.items, matches);
    return true;
  }

  // The singles' checkout or the accumulator, with the one price setting.
  function showMode() {
    if (compact) return;
    const single = slipMode() === 'singles';
    actions.hidden = !single;
    acca.el.hidden = single;
    if (single) actions.insertBefore(priceField.el, checkoutError.el);
    else acca.priceSlot.append(priceField.el);
  }

  // The accumulator is placed: its legs leave the cart.
  async function accaPlaced(bet, legItems) {
    await Promise.all(legItems.map((item) => api.removeCartItem(user.id, user.token, item.item_id).catch(() => {})));
    await Promise.all([refreshCart(), refreshUser()]).catch(() => {});
    refreshHeld().catch(() => {});
    await draw();
    await showReceipt({ bets: [bet] }, 'Accumulator placed');
    status.show(`Placed an accumulator of ${bet.legs?.length ?? legItems.length} at ${formatOdds(bet.odds)}, stake ${formatCash(bet.stake)}, potential payout ${formatCash(bet.potential_payout)}.`);
  }

  // Before placing: every stake on screen saved, and the server's cart the
  // same selections at the same stakes as the screen. false (saying why,
  // focus on the stake to fix) when not.
  async function screenIsCart() {
    // The bettor's last changes (a Remove on its way, or its redraw: the
    // cart's count is already new, its rows not yet) make the cart they
    // place: compare with that, not with the rows about to be replaced.
    await settled();
    const invalid = [...rows.values()].filter((row) => row.stake() === null);
    if (invalid.length) {
      for (const row of invalid) fieldError(row.el.querySelector('form'), row.input, 'Enter a stake such as 10.00.');
      checkoutError.show(
        invalid.length === 1
          ? `Nothing was placed: the stake on ${invalid[0].label} is not an amount. Correct it, then place again.`
          : `Nothing was placed: ${invalid.length} stakes are not amounts. Correct them, then place again.`,
      );
      invalid[0].input.focus();
      return false;
    }
    // What the screen shows now: item -> stake (a redraw may add rows later).
    const onScreen = new Map([...rows].map(([id, row]) => [id, row.stake()]));
    const saved = await Promise.all([...rows.values()].map((row) => row.save({ quiet: true })));
    if (saved.includes(false)) {
      checkoutError.show('Nothing was placed: a stake could not be saved; see the message next to it.');
      return false;
    }
    await refreshCart();
    const cart = state.cart;
    const same = cart.items.length === onScreen.size && cart.items.every((item) => onScreen.get(item.item_id) === item.stake);
    if (!same) {
      await draw();
      checkoutError.show('Nothing was placed: your cart changed meanwhile (in another tab?). Check it, then place again.');
      return false;
    }
    return true;
  }

  async function checkout() {
    // Before the first draw there is nothing on screen to place: comparing
    // that with the server's cart would call the cart changed.
    if (placing || drawnCart === null) return;
    clearErrors();
    status.clear();
    placing = true;
    checkoutButton.setAttribute('aria-disabled', 'true');
    checkoutButton.textContent = 'Placing bets…';
    let placed = null;
    let cart = null;
    try {
      // Once more after the bettor accepted new prices; placing all along,
      // so nothing else changes the cart while they are asked and it is
      // filled again at those prices.
      for (;;) {
        if (!(await screenIsCart())) return;
        cart = state.cart;
        const key = pendingCheckoutKey?.setting === priceSetting() ? pendingCheckoutKey.key : api.newIdempotencyKey();
        try {
          placed = await api.checkout(user.id, user.token, key, priceSetting());
          pendingCheckoutKey = null;
          break;
        } catch (error) {
          pendingCheckoutKey = error.status === 0 ? { key, setting: priceSetting() } : null;
          if (error.code !== 'odds_changed') {
            await showCheckoutError(error, cart);
            return;
          }
          if (!(await pricesChanged(error))) return;
          clearErrors();
          status.clear();
        }
      }
    } catch (error) {
      checkoutError.show(error);
      return;
    } finally {
      placing = false;
      checkoutButton.textContent = 'Place bets';
      checkoutButton.setAttribute('aria-disabled', String(!(state.cart?.items?.length)));
    }
    setBalance(placed.balance);
    setCart({ items: [], total_stake: 0, expires_in: cart?.expires_in ?? 0 });
    await refreshCart().catch(() => {});
    refreshHeld().catch(() => {});
    await draw();
    await showReceipt(placed);
    status.show(`Placed ${placed.bets.length} bet${placed.bets.length === 1 ? '' : 's'} for ${formatCash(placed.total_stake)}. Your balance is ${formatCash(placed.balance)}.`);
  }

  // Item errors go next to the items they name; the rest by the button.
  async function showCheckoutError(error, cart) {
    let placedNextToItem = false;
    for (const id of error.itemIds ?? []) {
      const row = rows.get(id);
      if (row) {
        row.error.show(error);
        placedNextToItem = true;
      }
    }
    if (error.code === 'insufficient_funds') {
      const balance = await refreshUser().then((u) => u?.balance).catch(() => undefined);
      checkoutError.show(error, { balance, needed: cart?.total_stake });
    } else if (!placedNextToItem) {
      checkoutError.show(error);
    } else {
      checkoutError.show('Some selections cannot be placed; see the messages next to them. Nothing was charged.');
    }
  }

  // Checkout refused because prices moved: show the cart as it is now (each
  // changed item with its price when added and now), ask the bettor, and on
  // yes put those items in the cart again at the new prices and check out
  // once more. The cart then holds exactly the prices the bettor accepted,
  // so the setting still guards against any further move.
  async function pricesChanged(error) {
    await refreshCart().catch(() => {});
    await draw();
    const ids = new Set(error.itemIds);
    let pending = [];
    for (const item of state.cart?.items ?? []) {
      if (!ids.has(item.item_id) || item.odds === null) continue;
      const row = rows.get(item.item_id);
      pending.push({ item, label: row?.label ?? `Match #${item.match_id}`, was: item.odds_at_add ?? null, now: item.odds });
      row?.error.show({ code: 'odds_changed', currentOdds: item.odds, previousOdds: item.odds_at_add ?? null });
    }
    if (!pending.length) {
      checkoutError.show(error);
      return false;
    }
    checkoutError.show('Nothing was placed: prices changed since these selections were added.');
    for (let round = 0; round < REPRICE_ROUNDS && pending.length; round += 1) {
      const several = pending.length > 1;
      const yes = await confirmNewPrices({
        title: several ? 'Prices have changed' : 'The price has changed',
        lines: pending.map((p) => `${p.label}: ${p.was === null ? 'price when added unknown' : formatOdds(p.was)} → ${formatOdds(p.now)}`),
        acceptText: several ? 'Accept new prices' : 'Accept new price',
      });
      if (!yes) {
        // From the second question on, the cart holds items put back at
        // the prices accepted before: show it as it is now.
        if (round > 0) {
          await refreshCart().catch(() => {});
          await draw();
        }
        return false;
      }
      const again = [];
      try {
        for (const p of pending) {
          // Asked again about an item already put back at a newer price: it is
          // in the cart at the price just accepted.
          if (samePrice(p.item.odds_at_add, p.now)) continue;
          await api.removeCartItem(user.id, user.token, p.item.item_id).catch((err) => {
            if (err.code !== 'item_not_found') throw err;
          });
          const added = await api.addCartItem(user.id, user.token, { match_id: p.item.match_id, selection: p.item.selection, stake: p.item.stake });
          if (!samePrice(added.odds_at_add ?? added.odds, p.now)) {
            again.push({ ...p, item: added, was: p.now, now: added.odds_at_add ?? added.odds });
          }
        }
      } catch (err) {
        await refreshCart().catch(() => {});
        await draw();
        checkoutError.show(err);
        return false;
      }
      pending = again;
    }
    await refreshCart().catch(() => {});
    if (pending.length) {
      await draw();
      checkoutError.show('The prices keep changing. Nothing was placed; your cart shows the latest prices.');
      return false;
    }
    await draw();
    return true;
  }

  // What was placed, just below the button that placed it; focus goes to
  // its heading (the button is disabled now the cart is empty).
  async function showReceipt(placed, heading = 'Bets placed') {
    const lines = await Promise.all(
      placed.bets.map(async (bet) => {
        if (bet.type === 'accumulator' && Array.isArray(bet.legs)) {
          const ids = bet.legs.map((l) => l.match_id);
          const matches = new Map(await Promise.all(ids.map(async (id) => [id, await matchById(id).catch(() => null)])));
          return accaReceiptItem(bet, matches);
        }
        const match = await matchById(bet.match_id).catch(() => null);
        const title = match ? `${match.team_1} v ${match.team_2}` : `Match #${bet.match_id}`;
        return h('li', {}, `${title}: ${selectionLabel(bet.selection, match)} at ${formatOdds(bet.odds)}, stake ${formatCash(bet.stake)}, potential return ${formatCash(bet.potential_payout)}`);
      }),
    );
    const headingEl = h(compact ? 'h3' : 'h2', { id: receiptHeadingId, tabindex: '-1', text: heading });
    receipt.replaceChildren(headingEl, h('ul', {}, lines), h('p', {}, h('a', { href: '#bets', text: 'See my bets' })));
    receipt.hidden = false;
    headingEl.focus();
  }

  (async () => {
    try {
      await Promise.all([state.cart && compact ? null : refreshCart(), state.user ? null : refreshUser()]);
      await draw();
    } catch (error) {
      pageError.show(error);
    }
  })();
  onCleanup(() => {
    // A stake typed but not yet saved is saved now, as the bettor left it.
    for (const row of rows.values()) {
      clearTimeout(row.timer);
      if (row.pending() && row.stake() !== null) {
        api.updateCartItem(user.id, user.token, row.item.item_id, { stake: row.stake() }).then(() => refreshCart()).catch(() => {});
      }
    }
    rows.clear();
    closePriceDialog();
  });
  return { el };
}
