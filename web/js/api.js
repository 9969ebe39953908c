// The public HTTP API (docs/api.md), same origin, JSON in and out. Every
// failure becomes an ApiError carrying the problem+json `code`, so views can
// show a message next to what caused it.

export class ApiError extends Error {
  constructor(status, problem = {}, { retryAfter = null } = {}) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code || (status === 0 ? 'network_error' : 'http_error');
    this.title = problem.title || '';
    this.detail = problem.detail || '';
    this.fieldErrors = Array.isArray(problem.errors) ? problem.errors : [];
    this.itemIds = Array.isArray(problem.item_ids) ? problem.item_ids : [];
    // Figures some problems carry (API.md Part 2): the price now for
    // odds_changed, the match's limits for stake_above_max and
    // liability_limit_exceeded. null when the problem has none.
    this.currentOdds = typeof problem.current_odds === 'number' ? problem.current_odds : null;
    this.oddsVersion = Number.isInteger(problem.odds_version) ? problem.odds_version : null;
    this.maxStake = Number.isInteger(problem.max_stake) ? problem.max_stake : null;
    this.maxLiability = Number.isInteger(problem.max_liability) ? problem.max_liability : null;
    // Until when betting is paused (self_excluded), an RFC 3339 time; null if not said.
    this.until = typeof problem.until === 'string' ? problem.until : null;
    // The match a refusal is about, e.g. the accumulator leg that was refused.
    this.matchId = Number.isInteger(problem.match_id) ? problem.match_id : null;
    // Seconds to wait before trying again (the Retry-After header of a 429).
    this.retryAfter = retryAfter;
  }
}

// Retry-After as seconds: a number of seconds or an HTTP date; null if absent.
function retryAfterSeconds(response) {
  const value = response.headers.get('Retry-After');
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value !== undefined && value !== null && value !== '') q.set(key, String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

// `meta`, when given, is told whether the answer was a replay of an earlier
// one (Idempotent-Replayed).
async function call(method, path, { token, body, params, headers: extra, meta } = {}) {
  const headers = { Accept: 'application/json', ...extra };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path + query(params), init);
  } catch {
    throw new ApiError(0, { title: 'Network error', detail: 'Could not reach the server.' });
  }
  if (meta) meta.replayed = response.headers.get('Idempotent-Replayed') === 'true';
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    // A refusal because betting is paused (a self-exclusion or time-out that
    // started elsewhere, e.g. in another tab): the page catches up with it.
    if (response.status === 403 && data?.code === 'self_excluded') {
      window.dispatchEvent(new CustomEvent('betsdb:self-excluded'));
    }
    throw new ApiError(response.status, data && typeof data === 'object' ? data : { title: response.statusText }, {
      retryAfter: retryAfterSeconds(response),
    });
  }
  return data;
}

// An Idempotency-Key: 128 random bits. crypto.getRandomValues works on plain
// http too (randomUUID needs a secure context), e.g. a phone on the LAN.
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const enc = encodeURIComponent;

// Users. The password is optional: without one the sign-up token is the
// only way in.
export const signUp = (email, name, password) =>
  call('POST', '/v1/users', { body: password ? { email, name, password } : { email, name } });
export const getUser = (id, token) => call('GET', `/v1/users/${enc(id)}`, { token });
// Operators (owner, admin, support): accounts newest first, paged; q finds
// an email by its start or a name by any part, ignoring case.
export const listUsers = (token, params) => call('GET', '/v1/users', { token, params });
// The key makes a retry of a deposit whose answer was lost safe: the server
// credits at most once under it. The answer says `replayed` when the key's
// deposit had been made before (nothing more was credited).
export async function deposit(adminToken, id, amount, idempotencyKey) {
  const meta = {};
  const answer = await call('POST', `/v1/users/${enc(id)}/deposits`, {
    token: adminToken,
    body: { amount },
    headers: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {},
    meta,
  });
  return { ...answer, replayed: meta.replayed };
}
export const transactions = (id, token, params) =>
  call('GET', `/v1/users/${enc(id)}/transactions`, { token, params });

// Responsible gambling (API.md Part 2): the limits {deposit, stake, pending,
// self_excluded_until, timeout_until}; a change sends only the limits it
// changes ({deposit: {day: 5000}, stake: {week: null}}, null removes one).
// A self-exclusion ("6m" | "1y" | "5y") or a time-out (24 .. 1008 hours)
// cannot be shortened or lifted once started.
export const getLimits = (id, token) => call('GET', `/v1/users/${enc(id)}/limits`, { token });
export const setLimits = (id, token, change) => call('PUT', `/v1/users/${enc(id)}/limits`, { token, body: change });
export const selfExclude = (id, token, period) => call('POST', `/v1/users/${enc(id)}/self-exclusion`, { token, body: { period } });
export const startTimeout = (id, token, hours) => call('POST', `/v1/users/${enc(id)}/timeout`, { token, body: { hours } });

// Sessions: {token, role, user_id or operator_id, expires_at} for a bettor's
// or an operator's email and password; ending one revokes its token.
export const signIn = (email, password) => call('POST', '/v1/sessions', { body: { email, password } });
export const signOut = (token) => call('DELETE', '/v1/sessions/current', { token });
// current: the password on file (undefined for an admin's reset, or a user
// who has none yet).
export const changeUserPassword = (id, token, current, next) =>
  call('PUT', `/v1/users/${enc(id)}/password`, { token, body: { current_password: current, new_password: next } });
export const changeOperatorPassword = (id, token, current, next) =>
  call('PUT', `/v1/operators/${enc(id)}/password`, { token, body: { current_password: current, new_password: next } });

// Operators and the audit log (the owner and admin operators).
export const createOperator = (token, operator) => call('POST', '/v1/operators', { token, body: operator });
export const listOperators = (token, params) => call('GET', '/v1/operators', { token, params });
export const changeOperator = (token, id, change) => call('PATCH', `/v1/operators/${enc(id)}`, { token, body: change });
export const auditLog = (token, params) => call('GET', '/v1/audit', { token, params });

// Matches
export const listMatches = (params, token) => call('GET', '/v1/matches', { params, token });
export const getMatch = (id) => call('GET', `/v1/matches/${enc(id)}`);
export const createMatch = (adminToken, match) => call('POST', '/v1/matches', { token: adminToken, body: match });
export const changeOdds = (adminToken, id, odds) =>
  call('PATCH', `/v1/matches/${enc(id)}`, { token: adminToken, body: { odds } });
// Any of {odds, max_stake, max_liability, competition}; null removes a limit
// or the competition.
export const updateMatch = (adminToken, id, change) =>
  call('PATCH', `/v1/matches/${enc(id)}`, { token: adminToken, body: change });
export const suspendMatch = (adminToken, id) => call('POST', `/v1/matches/${enc(id)}/suspend`, { token: adminToken, body: {} });
export const resumeMatch = (adminToken, id) => call('POST', `/v1/matches/${enc(id)}/resume`, { token: adminToken, body: {} });
export const matchExposure = (adminToken, id) => call('GET', `/v1/matches/${enc(id)}/exposure`, { token: adminToken });
export const settleMatch = (adminToken, id, result) =>
  call('POST', `/v1/matches/${enc(id)}/result`, { token: adminToken, body: { result } });

// Bets
// bet: {user_id, match_id, selection, stake, odds?, accept_price_change?}, or
// an accumulator: {user_id, legs: [{match_id, selection, odds?}], stake, accept_price_change?}
export const placeBet = (token, bet, idempotencyKey) =>
  call('POST', '/v1/bets', { token, body: bet, headers: { 'Idempotency-Key': idempotencyKey } });
export const userBets = (id, token, params) => call('GET', `/v1/users/${enc(id)}/bets`, { token, params });
export const getBet = (token, id) => call('GET', `/v1/bets/${enc(id)}`, { token });
export const allBets = (adminToken, params) => call('GET', '/v1/bets', { token: adminToken, params });
export const betsSummary = (adminToken) => call('GET', '/v1/bets/summary', { token: adminToken });

// Cash-out: a quote {quote_id, bet_id, amount, expires_at}, then its acceptance
// (the quote_id sent back as received: a string or a number).
export const cashOutQuote = (token, betId) => call('POST', `/v1/bets/${enc(betId)}/cash-out/quote`, { token, body: {} });
export const cashOut = (token, betId, quoteId, idempotencyKey) =>
  call('POST', `/v1/bets/${enc(betId)}/cash-out`, { token, body: { quote_id: quoteId }, headers: { 'Idempotency-Key': idempotencyKey } });

// Cart
export const getCart = (id, token) => call('GET', `/v1/users/${enc(id)}/cart`, { token });
export const addCartItem = (id, token, item) =>
  call('POST', `/v1/users/${enc(id)}/cart/items`, { token, body: item });
export const updateCartItem = (id, token, itemId, change) =>
  call('PATCH', `/v1/users/${enc(id)}/cart/items/${enc(itemId)}`, { token, body: change });
export const removeCartItem = (id, token, itemId) =>
  call('DELETE', `/v1/users/${enc(id)}/cart/items/${enc(itemId)}`, { token });
export const emptyCart = (id, token) => call('DELETE', `/v1/users/${enc(id)}/cart`, { token });
// acceptPriceChange: "none" | "better" | "any" (the server's default is "any").
export const checkout = (id, token, idempotencyKey, acceptPriceChange) =>
  call('POST', `/v1/users/${enc(id)}/cart/checkout`, {
    token,
    body: acceptPriceChange ? { accept_price_change: acceptPriceChange } : {},
    headers: { 'Idempotency-Key': idempotencyKey },
  });

// Fixture files shipped with the server (data/fixtures/), for the importer.
export async function fixtureList() {
  const list = await call('GET', '/fixtures/index.json');
  return list?.fixtures ?? [];
}
export const fixtureFile = (path) => call('GET', path);
