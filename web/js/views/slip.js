// The bet slip, always in reach on the bettor's pages: a side panel beside
// the page on a wide screen, a bar at the bottom of a phone's screen that
// opens into a sheet with one tap. It is the cart (GET /v1/users/{id}/cart,
// so stakes, prices and checkout stay the server's): the selections, their
// stakes and potential returns, the totals, the balance after the bets and
// the place button, following every tap on an odds button. The cart page
// is the full view of the same (accumulators, "Bet now", the price setting),
// so there the slip steps aside; so it does on the operator's pages.
import { h } from '../dom.js';
import { formatCash } from '../money.js';
import { currentUser } from '../session.js';
import { onChange, state } from '../state.js';
import { cartPanel } from './cart.js';

const STEP_ASIDE = new Set(['cart', 'operator']);

// aside: the page's <aside id="slip">; page: the element holding <main> and
// it. Returns {sync(routeName)}, called on every route change.
export function mountSlip(aside, page) {
  const heading = h('h2', { id: 'slip-heading', class: 'slip-heading', tabindex: '-1', text: 'Bet slip' });
  const toggleText = h('span', { class: 'slip-toggle-text' });
  const toggleHint = h('span', { class: 'slip-toggle-hint', 'aria-hidden': 'true' });
  const toggle = h('button', { type: 'button', class: 'slip-toggle', 'aria-expanded': 'false', 'aria-controls': 'slip-body' }, toggleText, toggleHint);
  const body = h('div', { class: 'slip-body', id: 'slip-body' });
  aside.replaceChildren(h('div', { class: 'slip-head' }, heading, toggle), body);

  let route = null;
  let shownFor = null; // the user id the panel was built for
  let cleanups = [];
  let open = false;

  function setOpen(value) {
    open = value;
    aside.classList.toggle('open', open);
    toggle.setAttribute('aria-expanded', String(open));
    showSummary();
  }
  toggle.addEventListener('click', () => setOpen(!open));
  aside.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && open) {
      setOpen(false);
      toggle.focus();
    }
  });

  // The bar's text: what is in the slip, so it is worth the tap.
  function showSummary() {
    const items = state.cart?.items ?? [];
    const count = items.length;
    toggleText.textContent = count
      ? `Bet slip: ${count} selection${count === 1 ? '' : 's'}, total stake ${formatCash(state.cart.total_stake)}`
      : 'Bet slip: empty';
    toggleHint.textContent = open ? 'Hide ▾' : 'Show ▴';
    aside.dataset.count = String(count);
  }

  function teardown() {
    for (const fn of cleanups) fn();
    cleanups = [];
    body.replaceChildren();
    shownFor = null;
  }

  function sync(name = route) {
    route = name;
    const user = currentUser();
    const show = Boolean(user) && !STEP_ASIDE.has(route);
    if (!show) {
      if (shownFor !== null) teardown();
      aside.hidden = true;
      page.classList.remove('with-slip');
      document.body.classList.remove('has-slip');
      setOpen(false);
      return;
    }
    if (shownFor !== user.id) {
      teardown();
      shownFor = user.id;
      const panel = cartPanel({ user, compact: true, onCleanup: (fn) => cleanups.push(fn) });
      body.append(panel.el);
    }
    aside.hidden = false;
    page.classList.add('with-slip');
    document.body.classList.add('has-slip');
    showSummary();
  }

  onChange(() => {
    showSummary();
    // Signed in or out meanwhile.
    if ((currentUser()?.id ?? null) !== shownFor) sync();
  });
  return { sync };
}
