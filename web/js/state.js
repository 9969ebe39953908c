// What several views show at once: the signed-in bettor's balance and cart.
// Views change it through these functions and listen with onChange, so the
// header's balance and cart badge stay in step with every page.
import * as api from './api.js';
import { pauseOf } from './limits.js';
import { currentUser } from './session.js';

export const state = {
  user: null, // the GET /v1/users/{id} answer for the signed-in bettor
  cart: null, // the GET /v1/users/{id}/cart answer
  limits: null, // the GET /v1/users/{id}/limits answer (null: not known)
  limitsUser: null, // whose limits those are
  // The selections the bettor already holds in pending bets:
  // "matchId:selection" -> {singles: [bet ids], accas: [bet ids]}.
  held: new Map(),
  heldUser: null, // whose those are
};

const listeners = new Set();

export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function notify() {
  for (const fn of listeners) fn(state);
}

// Reads of the same thing may answer out of order: an answer is applied only
// if no read sent after it has been applied already (a read sent later saw
// at least every change answered before it was sent).
let userReadsSent = 0;
let userReadApplied = 0;
let cartReadsSent = 0;
let cartReadApplied = 0;

export async function refreshUser() {
  const session = currentUser();
  if (!session) {
    state.user = null;
    notify();
    return null;
  }
  const mine = ++userReadsSent;
  const user = await api.getUser(session.id, session.token);
  if (mine > userReadApplied) {
    userReadApplied = mine;
    state.user = user;
    notify();
  }
  return state.user;
}

export async function refreshCart() {
  const session = currentUser();
  if (!session) {
    state.cart = null;
    notify();
    return null;
  }
  const mine = ++cartReadsSent;
  const cart = await api.getCart(session.id, session.token);
  if (mine > cartReadApplied) {
    cartReadApplied = mine;
    state.cart = cart;
    notify();
  }
  return state.cart;
}

// Changes to the cart on their way (an odds button's add or removal, a
// Remove, Empty cart), each until the screen shows its outcome. Placing
// waits for them first: the bettor places what they see after their last
// change, not the rows it is about to replace.
const cartChanges = new Set();

// Runs change() as a cart change; resolves (or rejects) as it does.
export function changeCart(change) {
  const running = Promise.resolve().then(change);
  const done = running.then(
    () => {},
    () => {},
  );
  cartChanges.add(done);
  done.then(() => cartChanges.delete(done));
  return running;
}

export async function cartChangesSettled() {
  while (cartChanges.size) await Promise.all([...cartChanges]);
}

// The bettor's limits and any self-exclusion or time-out. When the server
// cannot answer it throws and what was known stays (the server refuses
// whatever a pause forbids either way).
export async function refreshLimits() {
  const session = currentUser();
  if (!session) {
    state.limits = null;
    notify();
    return null;
  }
  const limits = await api.getLimits(session.id, session.token);
  // Signed out or in as someone else meanwhile: not theirs.
  if (currentUser()?.id !== session.id) return null;
  state.limits = limits;
  state.limitsUser = session.id;
  notify();
  return limits;
}

export function setLimits(limits) {
  state.limits = limits;
  state.limitsUser = currentUser()?.id ?? null;
  notify();
}

// The self-exclusion or time-out pausing the signed-in bettor's betting now
// ({kind, until, text}), or null.
export function bettingPause() {
  const me = currentUser();
  return me && state.limitsUser === me.id ? pauseOf(state.limits) : null;
}

// What an answer to a change says is newer than any read sent before it.
export function setCart(cart) {
  cartReadApplied = cartReadsSent;
  state.cart = cart;
  notify();
}

export function setBalance(balance) {
  userReadApplied = userReadsSent;
  if (state.user) state.user = { ...state.user, balance };
  notify();
}

export function signedOut() {
  userReadApplied = userReadsSent;
  cartReadApplied = cartReadsSent;
  state.user = null;
  state.cart = null;
  state.limits = null;
  state.limitsUser = null;
  state.held = new Map();
  state.heldUser = null;
  notify();
}

const HELD_PAGE = 100; // the API's largest page
const HELD_PAGES = 10; // at most 1,000 pending bets are looked at

// Reads the bettor's pending bets (GET /v1/users/{id}/bets?status=pending)
// into state.held, so odds buttons can mark what the bettor already has.
export async function refreshHeld() {
  const session = currentUser();
  if (!session) {
    state.held = new Map();
    state.heldUser = null;
    notify();
    return state.held;
  }
  const held = new Map();
  const add = (matchId, selection, kind, betId) => {
    const key = `${matchId}:${selection}`;
    if (!held.has(key)) held.set(key, { singles: [], accas: [] });
    held.get(key)[kind].push(betId);
  };
  for (let page = 0; page < HELD_PAGES; page += 1) {
    const answer = await api.userBets(session.id, session.token, { status: 'pending', limit: HELD_PAGE, offset: page * HELD_PAGE });
    for (const bet of answer.items) {
      if (bet.type === 'accumulator' && Array.isArray(bet.legs)) {
        for (const leg of bet.legs) if (leg.status === 'pending') add(leg.match_id, leg.selection, 'accas', bet.id);
      } else {
        add(bet.match_id, bet.selection, 'singles', bet.id);
      }
    }
    if (answer.offset + answer.items.length >= answer.total || !answer.items.length) break;
  }
  if (currentUser()?.id !== session.id) return null;
  state.held = held;
  state.heldUser = session.id;
  notify();
  return held;
}

// What the signed-in bettor holds on a selection: {singles, accas} or null.
export function heldOn(matchId, selection) {
  const me = currentUser();
  if (!me || state.heldUser !== me.id) return null;
  return state.held.get(`${matchId}:${selection}`) ?? null;
}

// Match details by id, fetched once per page load (team names and dates do
// not change; odds are read fresh where they matter).
const matchCache = new Map();

export function rememberMatch(match) {
  matchCache.set(match.id, Promise.resolve(match));
}

export function matchById(id) {
  if (!matchCache.has(id)) {
    const pending = api.getMatch(id).catch((error) => {
      matchCache.delete(id);
      throw error;
    });
    matchCache.set(id, pending);
  }
  return matchCache.get(id);
}

// The match as it is now (status and prices change), also kept for matchById.
export async function freshMatch(id) {
  const match = await api.getMatch(id);
  rememberMatch(match);
  return match;
}

// "Arsenal v Chelsea", or "Match #3" when it cannot be read.
export async function matchLabel(id) {
  try {
    const m = await matchById(id);
    return `${m.team_1} v ${m.team_2}`;
  } catch {
    return `Match #${id}`;
  }
}
