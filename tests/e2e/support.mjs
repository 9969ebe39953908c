// Shared helpers for the browser tests: configuration from the environment,
// a headless Chromium (Debian's package, driven by playwright-core), direct
// API calls for setting up data, and screenshots under artifacts/.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = process.env.BETSDB_E2E_ARTIFACTS || join(HERE, 'artifacts');
export const FIXTURE_FILE = join(HERE, '..', '..', 'data', 'fixtures', 'premier-league-2025-26-md1-3.json');
const CHROMIUM = process.env.BETSDB_E2E_CHROMIUM || '/usr/bin/chromium';

export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
export const DESKTOP = { viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 };
const ACTION_TIMEOUT_MS = 10_000;

// The server under test. Missing configuration is a failure, never a skip:
// a suite that silently runs nothing would pass while testing nothing.
export function config() {
  const baseUrl = process.env.BETSDB_TEST_BASE_URL;
  const adminToken = process.env.BETSDB_TEST_ADMIN_TOKEN;
  assert.ok(baseUrl, 'BETSDB_TEST_BASE_URL is not set (e.g. http://127.0.0.1:8080); the e2e tests need a running betsdb');
  assert.ok(adminToken, 'BETSDB_TEST_ADMIN_TOKEN is not set; the e2e tests need the server\'s admin token');
  return { baseUrl: baseUrl.replace(/\/$/, ''), adminToken };
}

// A run-unique tag so repeated runs against one database never collide.
export const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

export async function api(method, path, { token, body } = {}) {
  const { baseUrl } = config();
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: text ? safeJson(text) : null };
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// Creates a match through the API (admin) and returns it. `limits` may hold
// max_stake and max_liability (cents).
export async function createMatch(team1, team2, { daysAhead = 7, odds = { 1: 2.1, X: 3.25, 2: 3.6 }, limits = {} } = {}) {
  const date = new Date(Date.now() + daysAhead * 86_400_000);
  date.setUTCSeconds(0, 0);
  const res = await api('POST', '/v1/matches', {
    token: config().adminToken,
    body: { team_1: team1, team_2: team2, date: date.toISOString().replace(/\.\d{3}Z$/, 'Z'), odds, ...limits },
  });
  assert.equal(res.status, 201, `creating ${team1} v ${team2}: ${res.text}`);
  return res.json;
}

// A bettor made through the API, with `deposit` cents credited: {id, token, email}.
export async function createUser(name, deposit = 0) {
  const email = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}.${RUN}@example.com`;
  const res = await api('POST', '/v1/users', { body: { email, name } });
  assert.equal(res.status, 201, `creating ${name}: ${res.text}`);
  if (deposit > 0) {
    const credited = await api('POST', `/v1/users/${res.json.id}/deposits`, { token: config().adminToken, body: { amount: deposit } });
    assert.equal(credited.status, 201, credited.text);
  }
  return { id: res.json.id, token: res.json.token, email };
}

// For working on the UI: with BETSDB_E2E_WEB_DIR set (e.g. ../../web), the
// browser gets the web assets from that folder instead of the server, which
// serves the copies compiled into its binary. CI never sets it: the tests
// then check exactly what the server ships.
const WEB_DIR = process.env.BETSDB_E2E_WEB_DIR;
const WEB_TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

async function serveWebFromDisk(context) {
  if (!WEB_DIR) return;
  await context.route(
    (url) => !url.pathname.startsWith('/v1/') && (url.pathname === '/' || extname(url.pathname) in WEB_TYPES),
    (route) => {
      const path = new URL(route.request().url()).pathname;
      const file = join(WEB_DIR, path === '/' ? 'index.html' : path);
      let body;
      try {
        body = readFileSync(file);
      } catch {
        return route.fulfill({ status: 404, body: 'not found' });
      }
      return route.fulfill({ status: 200, headers: { 'Content-Type': WEB_TYPES[extname(file)] }, body });
    },
  );
}

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

// A page on a fresh context (its own localStorage), which records anything
// that went wrong in the page: uncaught exceptions, failed requests, 5xx
// answers and missing static files. Tests assert it stays empty.
// `baseUrl` replaces the server's address (e.g. a relay the test can cut).
export async function openPage(browser, device, path = '/', { baseUrl = config().baseUrl } = {}) {
  const context = await browser.newContext({ ...device, baseURL: baseUrl, locale: 'en-GB', timezoneId: 'UTC' });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  await serveWebFromDisk(context);
  const page = await context.newPage();
  const problems = [];
  // Requests answered 204 No Content. playwright-core 1.61 (the last that
  // runs on Debian 12's Node.js 18) reports such an answer to a fetch as
  // "aborted" with Chromium 156, after its response event and although the
  // page's fetch resolved with the 204: not a failure.
  const answeredNoContent = new WeakSet();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    const aborted = r.failure()?.errorText === 'net::ERR_ABORTED';
    if (aborted && answeredNoContent.has(r)) return;
    // A read the page stops needing ends aborted, as it should: the matches
    // page's live stream when the page closes it, and any read still in
    // flight when the page reloads (limits.test.mjs reloads as soon as the
    // page shows what it waits for, while a list may still be loading).
    // An aborted write still counts.
    if (r.method() === 'GET' && aborted) return;
    problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() === 204) answeredNoContent.add(r.request());
    const url = new URL(r.url());
    if (r.status() >= 500) problems.push(`${r.status()} from ${r.request().method()} ${url.pathname}`);
    else if (r.status() === 404 && !url.pathname.startsWith('/v1/')) problems.push(`404 for ${url.pathname}`);
  });
  page.on('console', (m) => {
    // The browser logs every non-2xx fetch as a console error; those answers
    // are expected in error-path tests and are checked through the UI.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  await page.goto(path);
  return { context, page, problems };
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

// No horizontal scrolling: the layout fits a phone's width.
export async function assertFitsWidth(page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(scrollWidth <= innerWidth, `page is ${scrollWidth}px wide on a ${innerWidth}px screen`);
}

// Signs a bettor up through the UI; returns {id, name, email}.
export async function signUp(page, name) {
  const email = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}.${RUN}@example.com`;
  await page.goto('/#account');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Sign up' }).click();
  const idText = await page.locator('.token-notice .user-id').textContent();
  return { id: Number(idText.replace('#', '')), name, email };
}

// Enters the admin token on the operator page.
export async function operatorSignIn(page) {
  await page.goto('/#operator');
  await page.getByLabel('Admin token').fill(config().adminToken);
  await page.getByRole('button', { name: 'Use this token' }).click();
  await page.getByRole('navigation', { name: 'Operator' }).waitFor();
}

// The money shown in the header, e.g. "75.00".
export async function headerBalance(page) {
  return (await page.locator('#balance').textContent()).trim();
}

// Waits until the list shows only matches of `team` (a filter's answer has
// arrived, not the unfiltered first page).
export async function waitForTeamList(page, itemSelector, team) {
  await page.waitForFunction(
    ([selector, name]) => {
      const items = [...document.querySelectorAll(selector)];
      return items.length > 0 && items.every((li) => li.textContent.toLowerCase().includes(name.toLowerCase()));
    },
    [itemSelector, team],
  );
}

// Holds the matches page's live updates back: its stream opens and says
// nothing (and is not retried for minutes). For tests of what a bettor sees
// when a change reaches the server before it reaches the page.
export async function holdLiveUpdates(page) {
  await page.route('**/v1/stream*', (route) =>
    route.fulfill({ status: 200, headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' }, body: 'retry: 600000\n\n' }),
  );
}

// Holds requests in flight, for tests of what the page does while it waits
// for an answer (a second click, a tap before the redraw). Those to `url` (a
// page.route pattern) and of `method` (any when omitted) wait for release();
// `reached` resolves when the first arrives: the page has asked.
export async function holdRequests(page, url, { method } = {}) {
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let arrived;
  const reached = new Promise((resolve) => { arrived = resolve; });
  await page.route(url, async (route) => {
    if (method && route.request().method() !== method) return route.continue();
    arrived();
    await held;
    return route.continue();
  });
  return { reached, release };
}

// Waits until the matches page says its live stream is open.
export async function waitLive(page, timeout = ACTION_TIMEOUT_MS) {
  await page.locator('.live-state[data-state="live"]').waitFor({ timeout });
}

// The bettor's matches page searched for a team (GET /v1/matches?q=: any
// part of a team's or competition's name, any case).
export async function showTeam(page, team) {
  await page.goto('/#matches');
  await page.getByLabel('Search matches').fill(team);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await waitForTeamList(page, 'li.match', team);
}

// Opens an operator page by its tab, and returns once the page shown is the
// one the tab opens. After sign-in the first page the role may see is shown
// already, under "#operator" (the match list for a trader or the owner, the
// accounts for support): the click moves the hash, and the page redraws on
// the hashchange event, a task after the click. Typing before that would
// type into the page being replaced: wait for the redraw when one is due.
export async function openOperatorTab(page, name) {
  const link = page.getByRole('navigation', { name: 'Operator' }).getByRole('link', { name, exact: true });
  const target = await link.getAttribute('href');
  const redrawDue = await page.evaluate((hash) => location.hash !== hash, target);
  const before = await page.locator('section.operator-section').elementHandle();
  await link.click();
  if (redrawDue && before) await page.waitForFunction((section) => !section.isConnected, before);
}

// The operator's match list filtered by a team.
export async function showTeamToOperator(page, team) {
  // "Show" on the list being replaced would list every match.
  await openOperatorTab(page, 'Matches & results');
  await page.getByLabel('Team', { exact: true }).fill(team);
  await page.getByRole('button', { name: 'Show' }).click();
  await waitForTeamList(page, 'li.admin-match', team);
}

// Every form control has an accessible name (a <label>, aria-label or
// aria-labelledby), so screen readers and voice control can reach it.
export async function assertLabelled(page) {
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea, button')]
      .filter((el) => el.type !== 'hidden' && !el.closest('[hidden]'))
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim())))
      .map((el) => el.outerHTML.slice(0, 120)),
  );
  assert.deepEqual(unnamed, [], 'form controls without an accessible name');
}
