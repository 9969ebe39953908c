// Live updates on the bettor's matches page (API.md Part 2, "Live stream"):
// what an operator changes through the API shows on an open page within a
// second of the write's answer, in place and without a reload: a new price
// (highlighted for a moment), a suspension, a new match, a settlement. After
// a network drop the page reconnects and shows what changed meanwhile.
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DESKTOP, PHONE, RUN, api, assertFitsWidth, config, createMatch, launch, openPage, screenshot, showTeam, waitLive } from './support.mjs';

const LIVE_DEADLINE_MS = 1_000; // the "within a second"
const RECONNECT_DEADLINE_MS = 10_000; // EventSource retries every second (`retry: 1000`)

async function admin(method, path, body) {
  const res = await api(method, path, { token: config().adminToken, body });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

// Waits until `locator` is in `state`, at most a second after `since` (the
// moment the write answered).
async function withinASecond(since, what, locator, state = 'visible') {
  try {
    await locator.waitFor({ state, timeout: Math.max(1, since + LIVE_DEADLINE_MS - Date.now()) });
  } catch {
    assert.fail(`${what}: not on the page within ${LIVE_DEADLINE_MS} ms of the write's answer`);
  }
}

// Marks the page so a reload (which would lose the mark) can be told apart
// from a change made in place.
async function markPage(page) {
  await page.evaluate(() => {
    window.notReloaded = true;
  });
}
async function assertNotReloaded(page) {
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was reloaded');
}

// The page's reads of the open-match list (GET /v1/matches?status=open...).
function recordListReads(page) {
  const reads = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (r.method() === 'GET' && url.pathname === '/v1/matches' && url.searchParams.get('status') === 'open' && url.searchParams.has('sort')) reads.push(url);
  });
  return reads;
}

// The open matches, grouped by day and competition, in the page's order.
const openList = (page) => page.locator('[data-list="open"]');
const listedIds = (page) => openList(page).locator('li.match').evaluateAll((lis) => lis.map((li) => Number(li.dataset.matchId)));
const disabledButtons = (card) => card.locator('button.odds').evaluateAll((bs) => bs.map((b) => b.disabled));

// A TCP relay to the server that the test can cut, as a network drop would:
// open connections are reset, and new ones fail until it is restored.
async function relay(target) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  let down = false;
  const server = createServer((client) => {
    client.on('error', () => {});
    if (down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(Number(port) || 80, hostname);
    upstream.on('error', () => client.destroy());
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut() {
      down = true;
      for (const s of sockets) s.resetAndDestroy();
    },
    restore() {
      down = false;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// Problems that are not the live stream failing while the network is down.
const beyondTheDrop = (problems) => problems.filter((p) => !p.includes('/v1/stream'));

describe('live updates on the matches page', () => {
  let browser;
  before(async () => {
    config();
    browser = await launch();
  });
  after(async () => browser?.close());

  test('a new price through the API shows on an open page within a second, highlighted for a moment', async () => {
    const team = `Larks ${RUN}`;
    const match = await createMatch(team, `Wrens ${RUN}`, { daysAhead: 3, odds: { 1: 2.1, X: 3.25, 2: 3.6 } });
    const bettor = await openPage(browser, PHONE, '/#matches');
    await showTeam(bettor.page, team);
    await waitLive(bettor.page);
    assert.equal(await bettor.page.getByRole('status').filter({ hasText: 'Live' }).count(), 1);
    await markPage(bettor.page);
    const card = bettor.page.locator(`li.match[data-match-id="${match.id}"]`);
    const home = card.locator('button.odds[data-selection="1"]');
    const draw = card.locator('button.odds[data-selection="X"]');
    assert.equal(await home.locator('.odds-value').textContent(), '2.10');

    const changed = await admin('PATCH', `/v1/matches/${match.id}`, { odds: { 1: 2.45 } });
    const since = Date.now();
    assert.equal(changed.odds['1'], 2.45);
    await withinASecond(since, 'the new price, highlighted', card.locator('button.odds.odds-changed[data-selection="1"]', { hasText: '2.45' }));
    assert.equal(await home.getAttribute('aria-label'), `${team} 2.45, ${team} v Wrens ${RUN}`);
    assert.ok((await home.getAttribute('aria-label')).startsWith((await home.innerText()).replace(/\s+/g, ' ').trim()), 'the accessible name starts with the visible text');
    // Only the price that moved is highlighted.
    assert.equal(await draw.locator('.odds-value').textContent(), '3.25');
    assert.equal(await draw.evaluate((b) => b.classList.contains('odds-changed')), false);
    await screenshot(bettor.page, '60-live-price-phone');
    // The highlight fades: the class goes after about 1.5 s.
    await bettor.page.waitForFunction((id) => !document.querySelector(`li[data-match-id="${id}"] .odds-changed`), match.id, { timeout: 4_000 });
    assert.equal(await home.locator('.odds-value').textContent(), '2.45');

    // A withdrawn selection leaves the card; the others stay.
    await admin('PATCH', `/v1/matches/${match.id}`, { odds: { X: null } });
    await withinASecond(Date.now(), 'the withdrawn draw', draw, 'detached');
    assert.deepEqual(await card.locator('button.odds .odds-value').allTextContents(), ['2.45', '3.60']);
    await assertNotReloaded(bettor.page);
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('a suspension greys its match out within a second, and a resumption brings it back', async () => {
    const team = `Petrels ${RUN}`;
    const match = await createMatch(team, `Gannets ${RUN}`, { daysAhead: 3 });
    const paused = await createMatch(`Gannets ${RUN}`, team, { daysAhead: 4 });
    await admin('POST', `/v1/matches/${paused.id}/suspend`, {});
    const bettor = await openPage(browser, DESKTOP, '/#matches');
    await showTeam(bettor.page, team);
    await waitLive(bettor.page);
    await markPage(bettor.page);
    const card = bettor.page.locator(`li.match[data-match-id="${match.id}"]`);
    const section = bettor.page.getByRole('region', { name: 'Suspended for now' });
    assert.equal(await section.locator(`li[data-match-id="${paused.id}"]`).count(), 1);
    assert.deepEqual(await disabledButtons(card), [false, false, false]);

    await admin('POST', `/v1/matches/${match.id}/suspend`, {});
    await withinASecond(Date.now(), 'the suspension', bettor.page.locator(`li.match.suspended[data-match-id="${match.id}"]`));
    assert.deepEqual(await disabledButtons(card), [true, true, true]);
    assert.equal((await card.locator('.tag').textContent()).trim(), 'Suspended');
    assert.equal(await card.getAttribute('data-status'), 'suspended');
    assert.match(await card.getByRole('group').getAttribute('aria-label'), /suspended, no bets for now/);
    await screenshot(bettor.page, '61-live-suspension');

    // Resumed: bets again, in place.
    await admin('POST', `/v1/matches/${match.id}/resume`, {});
    await withinASecond(Date.now(), 'the resumption', bettor.page.locator(`li.match:not(.suspended)[data-match-id="${match.id}"]`));
    assert.deepEqual(await disabledButtons(card), [false, false, false]);
    assert.equal(await card.locator('.tag').count(), 0);

    // The match that was suspended when the page loaded moves into the open
    // list, after the earlier match; the suspended section empties.
    await admin('POST', `/v1/matches/${paused.id}/resume`, {});
    await withinASecond(Date.now(), 'the resumed match in the open list', openList(bettor.page).locator(`li[data-match-id="${paused.id}"]`));
    assert.deepEqual(await listedIds(bettor.page), [match.id, paused.id]);
    assert.equal(await section.isHidden(), true);
    assert.deepEqual(await disabledButtons(bettor.page.locator(`li.match[data-match-id="${paused.id}"]`)), [false, false, false]);
    await assertNotReloaded(bettor.page);
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('a new match through the API appears within a second, in its place by date', async () => {
    const team = `Plovers ${RUN}`;
    const first = await createMatch(team, `Curlews ${RUN}`, { daysAhead: 3 });
    const last = await createMatch(`Curlews ${RUN}`, team, { daysAhead: 5 });
    const bettor = await openPage(browser, PHONE, '/#matches');
    await showTeam(bettor.page, team);
    await waitLive(bettor.page);
    await markPage(bettor.page);
    assert.deepEqual(await listedIds(bettor.page), [first.id, last.id]);

    // Another team's match first: the filter keeps it off this page. Events
    // arrive in order, so once the next one shows, this one was seen.
    const stranger = await createMatch(`Snipes ${RUN}`, `Dunlins ${RUN}`, { daysAhead: 4 });
    const middle = await createMatch(team, `Dunlins ${RUN}`, { daysAhead: 4, odds: { 1: 1.95, X: 3.4, 2: 4.2 } });
    await withinASecond(Date.now(), 'the new match', openList(bettor.page).locator(`li.match[data-match-id="${middle.id}"]`));
    assert.deepEqual(await listedIds(bettor.page), [first.id, middle.id, last.id]);
    assert.equal(await bettor.page.locator(`li[data-match-id="${stranger.id}"]`).count(), 0);
    const card = bettor.page.locator(`li.match[data-match-id="${middle.id}"]`);
    assert.deepEqual(await card.locator('.odds-value').allTextContents(), ['1.95', '3.40', '4.20']);
    assert.deepEqual(await disabledButtons(card), [false, false, false]);
    await assertFitsWidth(bettor.page);
    await screenshot(bettor.page, '62-live-new-match-phone');
    await assertNotReloaded(bettor.page);
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('a settled match leaves the open list within a second', async () => {
    const team = `Skuas ${RUN}`;
    const [a, b, c] = [await createMatch(team, `Terns ${RUN}`, { daysAhead: 3 }), await createMatch(`Terns ${RUN}`, team, { daysAhead: 4 }), await createMatch(team, `Auks ${RUN}`, { daysAhead: 5 })];
    await admin('POST', `/v1/matches/${c.id}/suspend`, {});
    const bettor = await openPage(browser, PHONE, '/#matches');
    await showTeam(bettor.page, team);
    await waitLive(bettor.page);
    await markPage(bettor.page);
    assert.deepEqual(await listedIds(bettor.page), [a.id, b.id]);
    const section = bettor.page.getByRole('region', { name: 'Suspended for now' });
    assert.equal(await section.locator(`li[data-match-id="${c.id}"]`).count(), 1);

    await admin('POST', `/v1/matches/${a.id}/result`, { result: '1' });
    await withinASecond(Date.now(), 'the settled match gone', bettor.page.locator(`li[data-match-id="${a.id}"]`), 'detached');
    assert.deepEqual(await listedIds(bettor.page), [b.id]);

    // From the suspended section too; it hides once empty.
    await admin('POST', `/v1/matches/${c.id}/result`, { result: 'void' });
    await withinASecond(Date.now(), 'the settled suspended match gone', bettor.page.locator(`li[data-match-id="${c.id}"]`), 'detached');
    assert.equal(await section.isHidden(), true);

    // The last one: the list says there is nothing open.
    await admin('POST', `/v1/matches/${b.id}/result`, { result: 'X' });
    await withinASecond(Date.now(), 'the empty list', openList(bettor.page).getByText(`No open matches for “${team}”.`));
    assert.equal(await bettor.page.locator('li.match').count(), 0);
    await assertNotReloaded(bettor.page);
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('after a network drop the page reconnects, resumes and shows what changed meanwhile', async () => {
    const team = `Shags ${RUN}`;
    const match = await createMatch(team, `Divers ${RUN}`, { daysAhead: 3, odds: { 1: 2.1, X: 3.25, 2: 3.6 } });
    const link = await relay(config().baseUrl);
    try {
      const bettor = await openPage(browser, DESKTOP, '/#matches', { baseUrl: link.url });
      await showTeam(bettor.page, team);
      await waitLive(bettor.page);
      await markPage(bettor.page);
      const card = bettor.page.locator(`li.match[data-match-id="${match.id}"]`);
      // One change before the drop, so the page holds an event id to resume from.
      await admin('PATCH', `/v1/matches/${match.id}`, { odds: { 1: 2.2 } });
      await withinASecond(Date.now(), 'the first new price', card.locator('button.odds[data-selection="1"]', { hasText: '2.20' }));
      const reads = recordListReads(bettor.page);
      const streams = [];
      bettor.page.on('request', (r) => new URL(r.url()).pathname === '/v1/stream' && streams.push(r));

      link.cut();
      await bettor.page.locator('.live-state[data-state="reconnecting"]').waitFor({ timeout: RECONNECT_DEADLINE_MS });
      assert.match(await bettor.page.getByRole('status').filter({ hasText: 'Reconnecting' }).textContent(), /prices may be out of date/);
      await screenshot(bettor.page, '63-live-reconnecting');
      // Changes while the page cannot hear them.
      await admin('PATCH', `/v1/matches/${match.id}`, { odds: { 1: 2.3, 2: 3.4 } });
      const added = await createMatch(`Divers ${RUN}`, team, { daysAhead: 4 });
      await admin('POST', `/v1/matches/${match.id}/suspend`, {});

      link.restore();
      await waitLive(bettor.page, RECONNECT_DEADLINE_MS);
      const since = Date.now();
      await withinASecond(since, 'the price changed during the drop', card.locator('button.odds[data-selection="1"]', { hasText: '2.30' }));
      await withinASecond(since, 'the suspension during the drop', bettor.page.locator(`li.match.suspended[data-match-id="${match.id}"]`));
      await withinASecond(since, 'the match created during the drop', openList(bettor.page).locator(`li[data-match-id="${added.id}"]`));
      assert.deepEqual(await card.locator('.odds-value').allTextContents(), ['2.30', '3.25', '3.40']);
      assert.deepEqual(await listedIds(bettor.page), [match.id, added.id]);
      // Resumed from where it stopped (Last-Event-ID), not by reading the list again.
      const resumed = await streams.at(-1).allHeaders();
      assert.ok(resumed['last-event-id'], `the reconnect sent no Last-Event-ID: ${JSON.stringify(resumed)}`);
      assert.deepEqual(reads, [], 'the list was read again');
      await assertNotReloaded(bettor.page);
      assert.deepEqual(beyondTheDrop(bettor.problems), []);
      await bettor.context.close();
    } finally {
      await link.close();
    }
  });

  test('a page that had no event yet when the network dropped reads the list again on reconnecting', async () => {
    const team = `Grebes ${RUN}`;
    const match = await createMatch(team, `Coots ${RUN}`, { daysAhead: 3 });
    const link = await relay(config().baseUrl);
    try {
      const bettor = await openPage(browser, PHONE, '/#matches', { baseUrl: link.url });
      await showTeam(bettor.page, team);
      await waitLive(bettor.page);
      await markPage(bettor.page);
      const reads = recordListReads(bettor.page);
      const streams = [];
      bettor.page.on('request', (r) => new URL(r.url()).pathname === '/v1/stream' && streams.push(r));
      link.cut();
      await bettor.page.locator('.live-state[data-state="reconnecting"]').waitFor({ timeout: RECONNECT_DEADLINE_MS });
      const added = await createMatch(`Coots ${RUN}`, team, { daysAhead: 2 });
      await admin('PATCH', `/v1/matches/${match.id}`, { odds: { X: 3.75 } });
      link.restore();
      await waitLive(bettor.page, RECONNECT_DEADLINE_MS);
      const since = Date.now();
      await withinASecond(since, 'the match created during the drop', openList(bettor.page).locator(`li[data-match-id="${added.id}"]`));
      await withinASecond(since, 'the price changed during the drop', bettor.page.locator(`li[data-match-id="${match.id}"] button.odds[data-selection="X"]`, { hasText: '3.75' }));
      assert.deepEqual(await listedIds(bettor.page), [added.id, match.id]);
      // No event reached the page before the drop (run.sh runs this file
      // alone, so no other test's change can), but the stream gave it a
      // position when it opened (an id without data): its reconnect resumes
      // from there, and the page, which heard no event itself, reads the
      // list again too.
      const reconnect = streams.at(-1);
      assert.ok(reconnect, 'the page did not reconnect');
      const heard =
        new URL(reconnect.url()).searchParams.get('last_event_id') ?? (await reconnect.allHeaders())['last-event-id'];
      assert.ok(heard, 'the reconnect carried no position to resume from');
      assert.ok(reads.length >= 1, 'the list was not read again');
      await assertNotReloaded(bettor.page);
      assert.deepEqual(beyondTheDrop(bettor.problems), []);
      await bettor.context.close();
    } finally {
      await link.close();
    }
  });
});
