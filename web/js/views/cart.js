// The cart: selections waiting to become bets. Stakes can be edited, items
// removed; the page shows the total, the potential payout and when the cart
// expires, and checks out all items at once (all or nothing), or places one
// item as a bet on its own ("Bet now"). Both send the bettor's price-change
// setting; when a price moved the bettor is asked before anything is placed
// at the new price. The bettor may instead make the selections the legs of
// one accumulator (acca_slip.js); the choice is kept in this browser.
// While the bettor's self-exclusion or time-out runs, every control that
// changes the cart or places a bet is disabled, its title saying until when.
import * as api from '../api.js';
import { field, h } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, statusBox } from '../errors.js';
import { formatDateTime, formatDuration, selectionLabel } from '../format.js';
import { formatMoney, formatOdds, oddsHundredths, parseMoney, potentialPayout } from '../money.js';
import { closePriceDialog, confirmNewPrices, priceSetting, priceSettingField } from '../prices.js';
import { currentUser } from '../session.js';
import { pauseControl } from '../limits.js';
import { bettingPause, freshMatch, matchById, onChange, refreshCart, refreshUser, setBalance, setCart, state } from '../state.js';
import { accaReceiptItem, accaSlip, modeChooser, slipMode } from './acca_slip.js';

// Kept across clicks only after a network failure, when we cannot know whether
// the checkout went through: the retry then replays instead of acting twice.
let pendingCheckoutKey = null;
// The same for a single bet: {body (JSON text), key}.
let pendingBet = null;

// How many times in a row the bettor is asked about prices that keep moving
// while the cart takes the accepted ones, before giving up with a message.
const REPRICE_ROUNDS = 3;

const samePrice = (a, b) => a !== null && a !== undefined && b !== null && b !== undefined && oddsHundredths(a) === oddsHundredths(b);
export function render(main, ctx) {
  const user = currentUser();
  main.append(h('h1', { tabindex: '-1', text: 'Your cart' }));
  if (!user) {
    main.append(h('p', { class: 'notice' }, h('a', { href: '#account', text: 'Sign up or sign in' }), ' to fill a cart.'));
    return;
  }

  const pageError = errorBox();
  const status = statusBox();
  const list = h('ul', { class: 'cart-list', 'aria-label': 'Cart items' });
  const totals = h('dl', { class: 'totals' });
  const checkoutError = errorBox();
  const checkoutButton = h('button', { type: 'button', class: 'primary', text: 'Place bets' });
  const emptyButton = h('button', { type: 'button', class: 'secondary', text: 'Empty cart' });
  const priceField = priceSettingField();
  const actions = h('div', { class: 'checkout' }, totals, priceField.el, checkoutError.el, h('div', { class: 'actions' }, checkoutButton, emptyButton));
  const receipt = h('section', { class: 'receipt', 'aria-label': 'Placed bets', hidden: true });
  const acca = accaSlip({ user, onPlaced: accaPlaced });
  main.append(status.el, pageError.el, receipt, modeChooser(switchMode), list, actions, acca.el);
  showMode();

  const itemErrors = new Map(); // item_id -> errorBox
  // The pause the cart was last drawn with ('' for none): when a pause
  // starts or ends, the cart is drawn again (the server empties it when one
  // starts).
  let drawnPause = null;
  ctx.onCleanup(
    onChange(() => {
      if (drawnPause !== null && (bettingPause()?.text ?? '') !== drawnPause) {
        drawnPause = null;
        refreshCart().catch(() => {}).finally(() => draw());
      }
    }),
  );

  checkoutButton.addEventListener('click', checkout);
  emptyButton.addEventListener('click', async () => {
    clearErrors();
    try {
      await api.emptyCart(user.id, user.token);
      await refreshCart();
      await draw();
      status.show('Your cart is now empty.');
    } catch (error) {
      checkoutError.show(error);
    }
  });

  function clearErrors() {
    pageError.clear();
    checkoutError.clear();
    acca.clear();
    for (const e of itemErrors.values()) e.clear();
  }

  async function switchMode() {
    clearErrors();
    await draw();
  }

  async function itemRow(item, match) {
    const title = match ? `${match.team_1} v ${match.team_2}` : `Match #${item.match_id}`;
    const error = errorBox();
    itemErrors.set(item.item_id, error);
    const stakeInput = h('input', {
      type: 'text',
      inputmode: 'decimal',
      name: 'stake',
      'data-field': 'stake',
      value: formatMoney(item.stake),
      autocomplete: 'off',
      size: 8,
    });
    const update = h('button', { type: 'submit', class: 'secondary', text: 'Update stake' });
    const form = h(
      'form',
      { class: 'stake-edit' },
      field(['Stake', h('span', { class: 'visually-hidden', text: ` on ${selectionLabel(item.selection, match)}, ${title}` })], stakeInput),
      update,
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors();
      clearFieldErrors(form);
      const stake = parseMoney(stakeInput.value);
      if (stake === null || stake <= 0) {
        fieldError(form, stakeInput, 'Enter a stake such as 10.00.');
        return;
      }
      try {
        await api.updateCartItem(user.id, user.token, item.item_id, { stake });
        await refreshCart();
        await draw();
        // After the redraw, so the totals already agree with what it says.
        status.show(`Stake on ${title} is now ${formatMoney(stake)}.`);
      } catch (err) {
        error.show(err);
      }
    });
    const remove = h('button', {
      type: 'button',
      class: 'link danger',
      text: 'Remove',
      'aria-label': `Remove ${selectionLabel(item.selection, match)}, ${title}`,
      onclick: async () => {
        clearErrors();
        try {
          await api.removeCartItem(user.id, user.token, item.item_id);
          await refreshCart();
          await draw();
          status.show(`Removed ${title} from your cart.`);
        } catch (err) {
          error.show(err);
        }
      },
    });
    const suspended = match?.status === 'suspended';
    const betNow = h('button', {
      type: 'button',
      class: 'secondary bet-now',
      text: 'Bet now',
      'aria-label': `Bet now on ${selectionLabel(item.selection, match)}, ${title}`,
      // The price on screen is the one the bettor agrees to.
      onclick: () => placeSingle(item, match, title, item.odds),
    });
    const pause = bettingPause();
    pauseControl(betNow, pause, item.odds === null || suspended);
    pauseControl(update, pause);
    pauseControl(remove, pause);
    // The price moved since the item was added (odds_at_add is null for
    // items from before prices were remembered).
    const moved = item.odds !== null && item.odds_at_add !== null && item.odds_at_add !== undefined && !samePrice(item.odds, item.odds_at_add);
    const payout = item.odds === null ? null : potentialPayout(item.stake, item.odds);
    // As a leg of an accumulator an item has no stake or bet of its own.
    const single = slipMode() === 'singles';
    return h(
      'li',
      { class: 'card cart-item', 'data-item-id': item.item_id, 'data-status': match?.status ?? null },
      h('h2', { class: 'match-title', text: title }),
      h(
        'p',
        { class: 'pick' },
        h('strong', { text: selectionLabel(item.selection, match) }),
        ` (${item.selection}) at `,
        h('strong', { class: 'price', text: item.odds === null ? 'no longer offered' : formatOdds(item.odds) }),
        moved ? h('span', { class: 'price-moved', text: ` (was ${formatOdds(item.odds_at_add)} when added)` }) : null,
        match ? h('span', { class: 'muted' }, ' · ', h('time', { datetime: match.date, text: formatDateTime(match.date) })) : null,
        suspended ? [' ', h('span', { class: 'tag status-suspended', text: 'Suspended' })] : null,
      ),
      suspended ? h('p', { class: 'muted small', text: 'Betting on this match is suspended for now.' }) : null,
      Number.isInteger(match?.max_stake) ? h('p', { class: 'muted small limit-note', text: `Maximum stake ${formatMoney(match.max_stake)}` }) : null,
      single ? form : null,
      single ? h('p', { class: 'payout' }, 'Potential payout ', h('strong', { text: payout === null ? '–' : formatMoney(payout) })) : null,
      h('div', { class: 'actions item-actions' }, single ? betNow : null, remove),
      error.el,
    );
  }

  // One item as a bet on its own, at the price shown (`odds`). When the
  // price moved and the setting refuses it, the bettor is asked; yes places
  // it at the new price, sending that price, so a further move is caught too.
  async function placeSingle(item, match, title, odds) {
    clearErrors();
    status.clear();
    const label = `${selectionLabel(item.selection, match)}, ${title}`;
    const body = {
      user_id: user.id,
      match_id: item.match_id,
      selection: item.selection,
      stake: item.stake,
      odds,
      accept_price_change: priceSetting(),
    };
    const text = JSON.stringify(body);
    const key = pendingBet?.body === text ? pendingBet.key : api.newIdempotencyKey();
    const errorFor = () => itemErrors.get(item.item_id) ?? checkoutError;
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
        if (yes) return placeSingle(item, match, title, err.currentOdds);
        errorFor().show(err);
        return;
      }
      if (err.code === 'insufficient_funds') {
        const balance = await refreshUser().then((u) => u?.balance).catch(() => undefined);
        errorFor().show(err, { balance, needed: item.stake });
      } else {
        errorFor().show(err);
      }
      return;
    }
    // Placed: the item has done its job.
    await api.removeCartItem(user.id, user.token, item.item_id).catch(() => {});
    await Promise.all([refreshCart(), refreshUser()]).catch(() => {});
    await draw();
    await showReceipt({ bets: [bet] }, 'Bet placed');
    const note = samePrice(bet.odds, odds) ? '' : ` (the price moved from ${formatOdds(odds)})`;
    status.show(`Placed ${label} at ${formatOdds(bet.odds)}${note}, stake ${formatMoney(bet.stake)}.`);
  }

  function totalsOf(cart) {
    const payout = cart.items.reduce((sum, i) => sum + (i.odds === null ? 0 : potentialPayout(i.stake, i.odds)), 0);
    const expires = new Date(Date.now() + cart.expires_in * 1000);
    const balance = state.user?.balance;
    return [
      h('dt', { text: 'Total stake' }),
      h('dd', { class: 'total-stake', text: formatMoney(cart.total_stake) }),
      h('dt', { text: 'Potential payout' }),
      h('dd', { class: 'total-payout', text: formatMoney(payout) }),
      h('dt', { text: 'Your balance' }),
      h('dd', { class: 'balance', text: balance === undefined ? '–' : formatMoney(balance) }),
      h('dt', { text: 'Cart expires' }),
      h('dd', { class: 'expires' }, `in ${formatDuration(cart.expires_in)} `, h('span', { class: 'muted' }, '(', h('time', { datetime: expires.toISOString(), text: formatDateTime(expires.toISOString()) }), ')')),
    ];
  }

  async function draw() {
    const cart = state.cart;
    if (!cart) return;
    // Read each match afresh: whether it is suspended changes.
    const ids = [...new Set(cart.items.map((i) => i.match_id))];
    const matches = new Map(
      await Promise.all(ids.map(async (id) => [id, await freshMatch(id).catch(() => matchById(id).catch(() => null))])),
    );
    itemErrors.clear();
    const rows = await Promise.all(cart.items.map((item) => itemRow(item, matches.get(item.match_id) ?? null)));
    list.replaceChildren(...rows);
    if (!cart.items.length) {
      list.append(h('li', { class: 'empty' }, 'Your cart is empty. ', h('a', { href: '#matches', text: 'Pick some odds' }), '.'));
    }
    totals.replaceChildren(...totalsOf(cart));
    const pause = bettingPause();
    drawnPause = pause?.text ?? '';
    pauseControl(checkoutButton, pause, !cart.items.length);
    pauseControl(emptyButton, pause, !cart.items.length);
    showMode();
    acca.update(cart.items, matches);
  }

  // The singles' checkout or the accumulator, with the one price setting.
  function showMode() {
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
    await draw();
    await showReceipt({ bets: [bet] }, 'Accumulator placed');
    status.show(`Placed an accumulator of ${bet.legs?.length ?? legItems.length} at ${formatOdds(bet.odds)}, stake ${formatMoney(bet.stake)}, potential payout ${formatMoney(bet.potential_payout)}.`);
  }

  async function checkout() {
    clearErrors();
    status.clear();
    const cart = state.cart;
    const key = pendingCheckoutKey?.setting === priceSetting() ? pendingCheckoutKey.key : api.newIdempotencyKey();
    checkoutButton.disabled = true;
    checkoutButton.textContent = 'Placing bets…';
    try {
      const placed = await api.checkout(user.id, user.token, key, priceSetting());
      pendingCheckoutKey = null;
      setBalance(placed.balance);
      showReceipt(placed);
      status.show(`Placed ${placed.bets.length} bet${placed.bets.length === 1 ? '' : 's'} for ${formatMoney(placed.total_stake)}. Your balance is ${formatMoney(placed.balance)}.`);
      setCart({ items: [], total_stake: 0, expires_in: cart?.expires_in ?? 0 });
      await refreshCart().catch(() => {});
    } catch (error) {
      pendingCheckoutKey = error.status === 0 ? { key, setting: priceSetting() } : null;
      if (error.code === 'odds_changed') {
        checkoutButton.disabled = false;
        checkoutButton.textContent = 'Place bets';
        await pricesChanged(error);
        return;
      }
      // Item errors go next to the items they name; the rest by the button.
      let placedNextToItem = false;
      for (const id of error.itemIds ?? []) {
        const box = itemErrors.get(id);
        if (box) {
          box.show(error);
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
      // The cart is intact after a failed checkout: keep the rows and their
      // messages. (Still disabled if betting is paused.)
      pauseControl(checkoutButton, bettingPause());
      checkoutButton.textContent = 'Place bets';
      return;
    }
    checkoutButton.textContent = 'Place bets';
    await draw();
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
      const match = await matchById(item.match_id).catch(() => null);
      const title = match ? `${match.team_1} v ${match.team_2}` : `Match #${item.match_id}`;
      pending.push({ item, label: `${selectionLabel(item.selection, match)}, ${title}`, was: item.odds_at_add ?? null, now: item.odds });
      itemErrors.get(item.item_id)?.show({ code: 'odds_changed', currentOdds: item.odds, previousOdds: item.odds_at_add ?? null });
    }
    if (!pending.length) {
      checkoutError.show(error);
      return;
    }
    checkoutError.show('Nothing was placed: prices changed since these selections were added.');
    for (let round = 0; round < REPRICE_ROUNDS && pending.length; round += 1) {
      const several = pending.length > 1;
      const yes = await confirmNewPrices({
        title: several ? 'Prices have changed' : 'The price has changed',
        lines: pending.map((p) => `${p.label}: ${p.was === null ? 'price when added unknown' : formatOdds(p.was)} → ${formatOdds(p.now)}`),
        acceptText: several ? 'Accept new prices' : 'Accept new price',
      });
      if (!yes) return;
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
        return;
      }
      pending = again;
    }
    await refreshCart().catch(() => {});
    if (pending.length) {
      await draw();
      checkoutError.show('The prices keep changing. Nothing was placed; your cart shows the latest prices.');
      return;
    }
    await checkout();
  }

  async function showReceipt(placed, heading = 'Bets placed') {
    const rows = await Promise.all(
      placed.bets.map(async (bet) => {
        if (bet.type === 'accumulator' && Array.isArray(bet.legs)) {
          const ids = bet.legs.map((l) => l.match_id);
          const matches = new Map(await Promise.all(ids.map(async (id) => [id, await matchById(id).catch(() => null)])));
          return accaReceiptItem(bet, matches);
        }
        const match = await matchById(bet.match_id).catch(() => null);
        const title = match ? `${match.team_1} v ${match.team_2}` : `Match #${bet.match_id}`;
        return h('li', {}, `${title}: ${selectionLabel(bet.selection, match)} at ${formatOdds(bet.odds)}, stake ${formatMoney(bet.stake)}, potential payout ${formatMoney(bet.potential_payout)}`);
      }),
    );
    receipt.replaceChildren(
      h('h2', { text: heading }),
      h('ul', {}, rows),
      h('p', {}, h('a', { href: '#bets', text: 'See my bets' })),
    );
    receipt.hidden = false;
  }

  (async () => {
    try {
      await Promise.all([refreshCart(), refreshUser()]);
      await draw();
    } catch (error) {
      pageError.show(error);
    }
  })();
  ctx.onCleanup(() => {
    itemErrors.clear();
    closePriceDialog();
  });
}
