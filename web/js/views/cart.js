// The cart: selections waiting to become bets. Stakes can be edited, items
// removed; the page shows the total, the potential payout and when the cart
// expires, and checks out all items at once (all or nothing).
import * as api from '../api.js';
import { field, h } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, statusBox } from '../errors.js';
import { formatDateTime, formatDuration, selectionLabel } from '../format.js';
import { formatMoney, formatOdds, parseMoney, potentialPayout } from '../money.js';
import { currentUser } from '../session.js';
import { matchById, refreshCart, refreshUser, setBalance, setCart, state } from '../state.js';

// Kept across clicks only after a network failure, when we cannot know whether
// the checkout went through: the retry then replays instead of acting twice.
let pendingCheckoutKey = null;

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
  const actions = h('div', { class: 'checkout' }, totals, checkoutError.el, h('div', { class: 'actions' }, checkoutButton, emptyButton));
  const receipt = h('section', { class: 'receipt', 'aria-label': 'Placed bets', hidden: true });
  main.append(status.el, pageError.el, receipt, list, actions);

  const itemErrors = new Map(); // item_id -> errorBox

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
    for (const e of itemErrors.values()) e.clear();
  }

  async function itemRow(item) {
    const match = await matchById(item.match_id).catch(() => null);
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
    const form = h(
      'form',
      { class: 'stake-edit' },
      field(['Stake', h('span', { class: 'visually-hidden', text: ` on ${selectionLabel(item.selection, match)}, ${title}` })], stakeInput),
      h('button', { type: 'submit', class: 'secondary', text: 'Update stake' }),
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
    const payout = item.odds === null ? null : potentialPayout(item.stake, item.odds);
    return h(
      'li',
      { class: 'card cart-item', 'data-item-id': item.item_id },
      h('h2', { class: 'match-title', text: title }),
      h(
        'p',
        { class: 'pick' },
        h('strong', { text: selectionLabel(item.selection, match) }),
        ` (${item.selection}) at `,
        h('strong', { text: item.odds === null ? 'no longer offered' : formatOdds(item.odds) }),
        match ? h('span', { class: 'muted' }, ' · ', h('time', { datetime: match.date, text: formatDateTime(match.date) })) : null,
      ),
      form,
      h('p', { class: 'payout' }, 'Potential payout ', h('strong', { text: payout === null ? '–' : formatMoney(payout) })),
      remove,
      error.el,
    );
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
    itemErrors.clear();
    if (!cart) return;
    const rows = await Promise.all(cart.items.map(itemRow));
    list.replaceChildren(...rows);
    if (!cart.items.length) {
      list.append(h('li', { class: 'empty' }, 'Your cart is empty. ', h('a', { href: '#matches', text: 'Pick some odds' }), '.'));
    }
    totals.replaceChildren(...totalsOf(cart));
    checkoutButton.disabled = !cart.items.length;
    emptyButton.disabled = !cart.items.length;
    actions.hidden = false;
  }

  async function checkout() {
    clearErrors();
    status.clear();
    const cart = state.cart;
    const key = pendingCheckoutKey ?? api.newIdempotencyKey();
    checkoutButton.disabled = true;
    checkoutButton.textContent = 'Placing bets…';
    try {
      const placed = await api.checkout(user.id, user.token, key);
      pendingCheckoutKey = null;
      setBalance(placed.balance);
      showReceipt(placed);
      status.show(`Placed ${placed.bets.length} bet${placed.bets.length === 1 ? '' : 's'} for ${formatMoney(placed.total_stake)}. Your balance is ${formatMoney(placed.balance)}.`);
      setCart({ items: [], total_stake: 0, expires_in: cart?.expires_in ?? 0 });
      await refreshCart().catch(() => {});
    } catch (error) {
      pendingCheckoutKey = error.status === 0 ? key : null;
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
      // The cart is intact after a failed checkout: keep the rows and their messages.
      checkoutButton.disabled = false;
      checkoutButton.textContent = 'Place bets';
      return;
    }
    checkoutButton.textContent = 'Place bets';
    await draw();
  }

  async function showReceipt(placed) {
    const rows = await Promise.all(
      placed.bets.map(async (bet) => {
        const match = await matchById(bet.match_id).catch(() => null);
        const title = match ? `${match.team_1} v ${match.team_2}` : `Match #${bet.match_id}`;
        return h('li', {}, `${title}: ${selectionLabel(bet.selection, match)} at ${formatOdds(bet.odds)}, stake ${formatMoney(bet.stake)}, potential payout ${formatMoney(bet.potential_payout)}`);
      }),
    );
    receipt.replaceChildren(
      h('h2', { text: 'Bets placed' }),
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
  ctx.onCleanup(() => itemErrors.clear());
}
