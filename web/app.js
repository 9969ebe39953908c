// Entry point: a hash router over the views, and the header (who is signed
// in, balance, cart count) kept in step with the shared state.
import { h } from './js/dom.js';
import { setAudience } from './js/errors.js';
import { formatCash } from './js/money.js';
import { watchScrollRegions } from './js/scroll_regions.js';
import { currentUser } from './js/session.js';
import { bettingPause, onChange, refreshCart, refreshLimits, refreshUser, setLimits, state } from './js/state.js';
import * as account from './js/views/account.js';
import * as bets from './js/views/bets.js';
import * as cart from './js/views/cart.js';
import * as ledger from './js/views/ledger.js';
import * as matches from './js/views/matches.js';
import * as operator from './js/views/operator.js';
import { mountSlip } from './js/views/slip.js';

const ROUTES = {
  matches: { view: matches, title: 'Matches' },
  cart: { view: cart, title: 'Cart' },
  bets: { view: bets, title: 'My bets' },
  ledger: { view: ledger, title: 'Ledger' },
  account: { view: account, title: 'Account' },
  operator: { view: operator, title: 'Operator' },
};
const DEFAULT_ROUTE = 'matches';

const main = document.getElementById('main');
let cleanups = [];
// The bet slip beside (or below) every bettor's page.
const slip = mountSlip(document.getElementById('slip'), document.getElementById('page'));

function parseHash() {
  const [name, sub = ''] = location.hash.replace(/^#\/?/, '').split('/');
  return { name: ROUTES[name] ? name : DEFAULT_ROUTE, sub };
}

function renderRoute({ focus = true } = {}) {
  for (const fn of cleanups) fn();
  cleanups = [];
  const { name, sub } = parseHash();
  const route = ROUTES[name];
  setAudience(name === 'operator' ? 'operator' : 'bettor');
  document.title = `${route.title} · Sports Bets DB`;
  for (const link of document.querySelectorAll('.nav a')) {
    if (link.dataset.route === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  main.replaceChildren();
  slip.sync(name);
  const ctx = {
    sub,
    onCleanup: (fn) => cleanups.push(fn),
    rerender: () => renderRoute(),
  };
  try {
    route.view.render(main, ctx);
  } catch (error) {
    main.append(h('p', { class: 'error', role: 'alert', text: `This page failed to load: ${error.message}` }));
  }
  // Keep the header's balance current: the operator may have credited or
  // settled since the last page. Likewise the limits: a self-exclusion or
  // time-out started in another tab pauses betting here too.
  if (currentUser()) {
    refreshUser().catch(() => {});
    refreshLimits().catch(() => {});
  }
  renderPauseBanner();
  // Move focus to the new page's heading so keyboard and screen-reader users
  // land on it, as they would after a full page load.
  if (focus) main.querySelector('h1')?.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function renderHeader() {
  const who = document.getElementById('who');
  const badge = document.getElementById('cart-count');
  const session = currentUser();
  if (!session) {
    who.replaceChildren(h('a', { href: '#account/signin', text: 'Sign in' }), ' · ', h('a', { href: '#account', text: 'Sign up' }));
  } else {
    const balance = state.user ? formatCash(state.user.balance) : '…';
    who.replaceChildren(
      h('span', { class: 'who-name', text: state.user?.name ?? session.name ?? `#${session.id}` }),
      ' · ',
      h('span', { class: 'who-balance' }, 'Balance ', h('strong', { id: 'balance', text: balance })),
    );
  }
  const count = state.cart?.items?.length ?? 0;
  badge.hidden = !session || count === 0;
  badge.textContent = String(count);
}

// While a self-exclusion or time-out runs, a banner on every bettor's page
// says until when (the betting controls are disabled, each saying why).
// The operator's pages are about other accounts: no banner there. When the
// pause ends while the page is open, the limits are read again and the
// banner goes.
let pauseTimer = null;
let bannerShows = ''; // the banner's text as shown, '' when hidden
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout's longest wait (about 24.8 days)
function renderPauseBanner() {
  const banner = document.getElementById('pause-banner');
  const pause = parseHash().name === 'operator' ? null : bettingPause();
  const text = pause?.text ?? '';
  if (text === bannerShows) return;
  bannerShows = text;
  clearTimeout(pauseTimer);
  pauseTimer = null;
  if (!pause) {
    banner.hidden = true;
    banner.replaceChildren();
    delete banner.dataset.kind;
    return;
  }
  banner.dataset.kind = pause.kind;
  banner.replaceChildren(
    h('p', {}, h('strong', { class: 'pause-text', text: pause.text }), ' You can still see your bets and cash out. ', h('a', { href: '#account', text: 'Your limits and breaks' })),
  );
  banner.hidden = false;
  // Read again once it has ended (or at setTimeout's longest wait, then again).
  const wait = Math.min(MAX_TIMER_MS, Math.max(0, Date.parse(pause.until) - Date.now()) + 1000);
  pauseTimer = setTimeout(() => {
    bannerShows = null; // whatever the answer, show it afresh
    refreshLimits().catch(() => setLimits(state.limits));
  }, wait);
}

onChange(renderHeader);
onChange(renderPauseBanner);
// Refused because betting is paused: the pause started elsewhere; catch up.
window.addEventListener('betsdb:self-excluded', () => {
  if (currentUser()) refreshLimits().catch(() => {});
});
window.addEventListener('hashchange', () => renderRoute());
renderHeader();
watchScrollRegions(main); // a table that scrolls sideways takes the keyboard
renderRoute({ focus: false });
if (currentUser()) refreshCart().catch(() => {});
