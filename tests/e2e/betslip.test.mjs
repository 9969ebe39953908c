// The bettor's side of issue 23 through the web UI: the stake placed is the
// stake shown; a bet slip always in reach (a side panel on a desktop, a
// bottom sheet one tap away on a phone, whose first screen shows at least
// three matches); finding a match (search, days, competitions, time zones);
// what the bettor already bet on (marked odds, ledger rows that link to their
// bet, kick-off and result in My bets); money with thousands separators and
// the currency; charts whose labels never clip; focus that stays where the
// bettor acted; odds buttons whose accessible name starts with their text.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DESKTOP, PHONE, RUN, api, assertFitsWidth, assertLabelled, config, createUser, headerBalance, holdRequests, launch, openPage, screenshot,
  showTeam, waitLive,
} from './support.mjs';

const DAY_MS = 86_400_000;

async function admin(method, path, body) {
  const res = await api(method, path, { token: config().adminToken, body });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

// A match at a given time (UTC), in a competition (or none).
async function matchAt(team1, team2, date, { competition = null, odds = { 1: 2.1, X: 3.25, 2: 3.6 } } = {}) {
  return admin('POST', '/v1/matches', { team_1: team1, team_2: team2, date: date.toISOString().replace(/\.\d{3}Z$/, 'Z'), competition, odds });
}

// Noon UTC `days` days from now, plus `hours`.
function dayAt(days, hours = 0) {
  const d = new Date(Date.now() + days * DAY_MS);
  d.setUTCHours(12 + hours, 0, 0, 0);
  return d;
}

// A page signed in as a bettor made through the API, at `path`.
// (The sign-in is in the browser's storage before the app's first script
// runs, as after signing in with the token on the Account page.)
async function bettorPage(browser, device, user, path = '/#matches') {
  const opened = await openPage(browser, device, 'about:blank');
  await opened.context.addInitScript((u) => {
    try {
      if (!localStorage.getItem('betsdb.user')) localStorage.setItem('betsdb.user', JSON.stringify(u));
    } catch {
      // about:blank has no storage
    }
  }, { id: user.id, token: user.token, name: user.name, email: user.email, kind: 'token', expiresAt: null });
  await opened.page.goto(path);
  await opened.page.locator('#balance').filter({ hasText: '€' }).waitFor();
  return opened;
}

async function newBettor(name, deposit) {
  const user = await createUser(name, deposit);
  return { ...user, name };
}

async function betsOf(userId) {
  const res = await api('GET', `/v1/users/${userId}/bets?sort=created_at&limit=100`, { token: config().adminToken });
  assert.equal(res.status, 200, res.text);
  return res.json.items;
}

// The matches page searched for `q` (a part of a team's or competition's
// name), once every listed match card mentions `expect`.
async function search(page, q, expect = q) {
  await page.getByLabel('Search matches').fill(q);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForFunction(
    (text) => {
      const cards = [...document.querySelectorAll('[data-list="open"] li.match')];
      return cards.length > 0 && cards.every((li) => li.textContent.toLowerCase().includes(text.toLowerCase()) || li.closest('[data-competition]')?.dataset.competition.toLowerCase().includes(text.toLowerCase()));
    },
    expect,
  );
}

const odds = (page, match, selection) => page.locator(`li.match[data-match-id="${match.id}"] button.odds[data-selection="${selection}"]`);

// Each odds button's accessible name begins with its visible text, in order.
async function assertOddsNamesHoldTheirText(page) {
  const pairs = await page.locator('button.odds').evaluateAll((buttons) =>
    buttons.map((b) => [b.innerText.replace(/\s+/g, ' ').trim(), (b.getAttribute('aria-label') ?? b.textContent).replace(/\s+/g, ' ').trim()]),
  );
  assert.ok(pairs.length > 0, 'no odds buttons');
  for (const [visible, name] of pairs) assert.ok(name.startsWith(visible), `accessible name "${name}" does not start with the visible text "${visible}"`);
}

// Whether every character of the element's text is drawn inside `box` (the
// element's own box when not given): nothing cut off or hidden by overflow.
async function textInside(locator, boxSelector = null) {
  return locator.evaluateAll(
    (els, selector) =>
      els.map((el) => {
        const box = (selector ? el.closest(selector) : el).getBoundingClientRect();
        const range = document.createRange();
        range.selectNodeContents(el);
        const rects = [...range.getClientRects()].filter((r) => r.width > 0);
        const inside = rects.every((r) => r.left >= box.left - 0.5 && r.right <= box.right + 0.5 && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5);
        const style = getComputedStyle(el);
        return { text: el.textContent, inside, ellipsis: style.textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth, fontSize: parseFloat(style.fontSize) };
      }),
    boxSelector,
  );
}

describe('the bettor\'s web UI: bet slip, search, what I bet on, numbers', () => {
  let browser;
  before(async () => {
    config();
    browser = await launch();
  });
  after(async () => browser?.close());

  test('a double tap on an odds button adds the selection once, with no error', async () => {
    const team = `Cranes ${RUN}`;
    const match = await matchAt(team, `Herons ${RUN}`, dayAt(3));
    const user = await newBettor(`Hal ${RUN}`, 1_000);
    const { page, context, problems } = await bettorPage(browser, PHONE, user);
    await showTeam(page, team);
    const adds = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === `/v1/users/${user.id}/cart/items`) adds.push(r.url());
    });
    // The cart read after the add is held: the second tap comes while the
    // first one's change is on its way, before the page knows the result.
    const reading = await holdRequests(page, `**/v1/users/${user.id}/cart`, { method: 'GET' });
    const card = page.locator(`li[data-match-id="${match.id}"]`);
    await card.getByRole('button', { name: new RegExp(`^${team} \\d`) }).dblclick();
    await reading.reached;
    reading.release();
    await page.locator('#cart-count', { hasText: '1' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Added' }).waitFor();
    assert.equal(adds.length, 1, 'one add for two taps');
    assert.equal(await card.getByRole('alert').filter({ hasText: /\S/ }).count(), 0);
    const cart = (await api('GET', `/v1/users/${user.id}/cart`, { token: user.token })).json;
    assert.equal(cart.items.length, 1);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('cart reads answered out of order leave the newer cart on screen', async () => {
    const team = `Plovers ${RUN}`;
    const match = await matchAt(team, `Snipes ${RUN}`, dayAt(3));
    const user = await newBettor(`Ida ${RUN}`, 1_000);
    const { page, context, problems } = await bettorPage(browser, PHONE, user);
    // The next cart read is answered by the server (an empty cart) but its
    // answer is held until a later read, after an add, has been applied.
    let holdNext = false;
    let fetched;
    const oldFetched = new Promise((resolve) => { fetched = resolve; });
    let releaseOld;
    const oldHeld = new Promise((resolve) => { releaseOld = resolve; });
    await page.route(`**/v1/users/${user.id}/cart`, async (route) => {
      if (route.request().method() !== 'GET' || !holdNext) return route.continue();
      holdNext = false;
      const response = await route.fetch();
      fetched();
      await oldHeld;
      return route.fulfill({ response });
    });
    holdNext = true;
    await page.evaluate(() => {
      window.olderRead = import('/js/state.js').then((s) => s.refreshCart());
    });
    await oldFetched;
    const added = await api('POST', `/v1/users/${user.id}/cart/items`, { token: user.token, body: { match_id: match.id, selection: '1', stake: 100 } });
    assert.equal(added.status, 201, added.text);
    const newer = await page.evaluate(async () => {
      const s = await import('/js/state.js');
      await s.refreshCart();
      return s.state.cart.items.length;
    });
    assert.equal(newer, 1);
    await page.locator('#cart-count', { hasText: '1' }).waitFor();
    releaseOld();
    const after = await page.evaluate(async () => {
      await window.olderRead;
      const s = await import('/js/state.js');
      return s.state.cart.items.length;
    });
    assert.equal(after, 1, 'the older answer did not replace the newer cart');
    assert.equal(await page.locator('#cart-count').textContent(), '1');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a price that moves away and back while an add is on its way is shown as it is now, not as it was added', async () => {
    const team = `Avocets ${RUN}`;
    const match = await matchAt(team, `Dunlins ${RUN}`, dayAt(3), { odds: { 1: 2.0, X: 3.25, 2: 3.6 } });
    const user = await newBettor(`Ike ${RUN}`, 1_000);
    const { page, context, problems } = await bettorPage(browser, PHONE, user);
    await showTeam(page, team);
    await waitLive(page);
    const home = page.locator(`li[data-match-id="${match.id}"]`).getByRole('button', { name: new RegExp(`^${team} \\d`) });
    // The add reaches the server once the price is 2.50; its answer is held
    // while the price moves back to 2.00.
    let moved;
    const movedAway = new Promise((resolve) => { moved = resolve; });
    let answered;
    const recorded = new Promise((resolve) => { answered = resolve; });
    let letGo;
    const held = new Promise((resolve) => { letGo = resolve; });
    await page.route(`**/v1/users/${user.id}/cart/items`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      await movedAway;
      const response = await route.fetch();
      answered();
      await held;
      return route.fulfill({ response });
    });
    await home.click();
    await admin('PATCH', `/v1/matches/${match.id}`, { odds: { 1: 2.5 } });
    moved();
    await recorded;
    await home.locator('.odds-value', { hasText: '2.50' }).waitFor();
    await admin('PATCH', `/v1/matches/${match.id}`, { odds: { 1: 2.0 } });
    await home.locator('.odds-value', { hasText: '2.00' }).waitFor();
    letGo();
    await page.getByRole('status').filter({ hasText: 'Added' }).waitFor();
    assert.match(await page.getByRole('status').filter({ hasText: 'Added' }).textContent(), /at 2\.50: the price has moved from 2\.00/);
    assert.equal(await home.locator('.odds-value').textContent(), '2.00', 'the button shows the price offered now');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('money reads with thousands separators and the currency; times name their time zone', async () => {
    const { context, page, problems } = await openPage(browser, DESKTOP);
    const out = await page.evaluate(async () => {
      const money = await import('/js/money.js');
      const format = await import('/js/format.js');
      return {
        cash: [money.formatCash(123456789), money.formatCash(5), money.formatCash(-250), money.formatCash(0), money.formatCash(10n ** 20n + 1n), money.formatCash(null)],
        signed: [money.formatSignedCash(2100), money.formatSignedCash(-1000), money.formatSignedCash(0)],
        plain: [money.formatMoney(123456789), money.parseMoney(money.formatMoney(123456789))],
        dateTime: format.formatDateTime('2026-03-21T19:45:00Z'),
        time: format.formatTime('2026-03-21T19:45:00Z'),
        day: format.formatDay('2026-03-21T19:45:00Z', new Date('2026-03-01T00:00:00Z')),
        today: format.formatDay('2026-03-21T19:45:00Z', new Date('2026-03-21T08:00:00Z')),
      };
    });
    assert.deepEqual(out.cash, ['€1,234,567.89', '€0.05', '-€2.50', '€0.00', '€1,000,000,000,000,000,000.01', '–']);
    assert.deepEqual(out.signed, ['+€21.00', '-€10.00', '€0.00']);
    // Inputs keep the plain amount that parseMoney reads back.
    assert.deepEqual(out.plain, ['1234567.89', 123456789]);
    assert.match(out.dateTime, /^Sat,? 21 Mar 2026,? 19:45 UTC$/);
    assert.equal(out.time, '19:45 UTC');
    assert.match(out.day, /^Saturday,? 21 March 2026$/);
    assert.match(out.today, /^Today, Saturday,? 21 March 2026$/);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('desktop: the slip beside the matches follows the odds buttons, places exactly the stakes on screen, and keeps the focus', async () => {
    const cup = `Slip Cup ${RUN}`;
    const a = await matchAt(`Anchors ${RUN}`, `Buoys ${RUN}`, dayAt(3), { competition: cup, odds: { 1: 2.1, X: 3.25, 2: 3.6 } });
    const b = await matchAt(`Capstans ${RUN}`, `Davits ${RUN}`, dayAt(3, 2), { competition: cup, odds: { 1: 1.8, X: 3.5, 2: 4.2 } });
    const c = await matchAt(`Ensigns ${RUN}`, `Fenders ${RUN}`, dayAt(4), { competition: cup, odds: { 1: 2.5, X: 3.0, 2: 2.9 } });
    const me = await newBettor(`Sue ${RUN}`, 1_234_567);
    const { context, page, problems } = await bettorPage(browser, DESKTOP, me);
    assert.equal(await headerBalance(page), '€12,345.67');

    // The slip is a panel to the right of the list, in view, empty.
    const slip = page.getByRole('complementary', { name: 'Bet slip' });
    await slip.getByText('Your slip is empty.').waitFor();
    await search(page, cup.toLowerCase(), cup);
    const [mainBox, slipBox] = [await page.locator('main').boundingBox(), await slip.boundingBox()];
    assert.ok(slipBox.x >= mainBox.x + mainBox.width, `the slip (x ${slipBox.x}) is not beside the list (ends at ${mainBox.x + mainBox.width})`);
    assert.ok(slipBox.y < 300 && slipBox.x + slipBox.width <= 1280, `the slip is not in view: ${JSON.stringify(slipBox)}`);
    assert.equal(await slip.getByRole('button', { name: 'Bet slip' }).isVisible(), false, 'the phone\'s toggle shows on a desktop');

    // Two taps: both selections in the slip, with stakes, returns, totals and the balance after.
    await odds(page, a, '1').click();
    await slip.locator('li.cart-item').first().waitFor();
    await odds(page, b, 'X').click();
    await slip.locator('li.cart-item').nth(1).waitFor();
    assert.equal(await odds(page, a, '1').getAttribute('aria-pressed'), 'true');
    const items = slip.locator('li.cart-item');
    assert.deepEqual(await items.locator('.match-title').allTextContents(), [`Anchors ${RUN} v Buoys ${RUN}`, `Capstans ${RUN} v Davits ${RUN}`]);
    assert.deepEqual(await items.locator('input[name="stake"]').evaluateAll((is) => is.map((i) => i.value)), ['10.00', '10.00']);
    assert.deepEqual(await items.locator('.payout strong').allTextContents(), ['€21.00', '€35.00']);
    assert.equal(await slip.locator('.total-stake').textContent(), '€20.00');
    assert.equal(await slip.locator('.total-payout').textContent(), '€56.00');
    assert.equal(await slip.locator('.balance-after').textContent(), '€12,325.67');
    await assertOddsNamesHoldTheirText(page);
    await assertLabelled(page);
    await screenshot(page, '70-slip-desktop');

    // A tap on a selected button takes it out again.
    await odds(page, c, '2').click();
    await items.nth(2).waitFor();
    await odds(page, c, '2').click();
    await page.waitForFunction(() => document.querySelectorAll('#slip li.cart-item').length === 2);
    assert.equal(await odds(page, c, '2').getAttribute('aria-pressed'), 'false');

    // The stake shown is the stake placed: typed and placed at once, with no
    // "Update stake" and no pause; the figures follow the typing.
    const first = items.first().locator('input[name="stake"]');
    await first.fill('1234.5');
    assert.equal(await items.first().locator('.payout strong').textContent(), '€2,592.45');
    assert.equal(await slip.locator('.total-stake').textContent(), '€1,244.50');
    assert.equal(await slip.locator('.balance-after').textContent(), '€11,101.17');
    const place = slip.getByRole('button', { name: 'Place bets' });
    await place.click();
    const receipt = slip.getByRole('heading', { name: 'Bets placed' });
    await receipt.waitFor();
    const bets = await betsOf(me.id);
    assert.deepEqual(bets.map((bet) => `${bet.match_id}:${bet.selection}:${bet.stake}`).sort(), [`${a.id}:1:123450`, `${b.id}:X:1000`].sort());
    // Focus went to the receipt, right under the button that placed the bets.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Bets placed');
    assert.equal(await page.evaluate(() => Boolean(document.activeElement?.closest('#slip'))), true);
    await page.locator('#balance', { hasText: '€11,101.17' }).waitFor();
    // What the bettor now holds is marked on the odds buttons.
    await odds(page, a, '1').locator('.odds-held', { hasText: 'Your bet' }).waitFor();
    await odds(page, b, 'X').locator('.odds-held', { hasText: 'Your bet' }).waitFor();
    assert.equal(await odds(page, a, 'X').locator('.odds-held').textContent(), '');
    await assertOddsNamesHoldTheirText(page);
    await screenshot(page, '71-slip-desktop-placed');

    // A stake that is not an amount blocks placing, says so next to it, and
    // the focus goes to it; nothing is placed.
    await odds(page, c, '1').click();
    await items.first().waitFor();
    await items.first().locator('input[name="stake"]').fill('ten');
    await slip.getByRole('button', { name: 'Place bets' }).click();
    const blocked = slip.locator('.checkout [role="alert"]');
    await blocked.filter({ hasText: 'Nothing was placed' }).waitFor();
    assert.match(await blocked.textContent(), new RegExp(`the stake on Ensigns ${RUN}, Ensigns ${RUN} v Fenders ${RUN} is not an amount`));
    assert.equal(await items.first().locator('input[name="stake"]').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.name), 'stake');
    assert.equal((await betsOf(me.id)).length, 2);

    // A selection put in the cart elsewhere (another tab) is not on screen:
    // placing refuses and shows it, rather than placing what was not shown.
    // The typed stake's own save reads the cart again when it is done (and
    // would show a selection added before that): it goes first.
    const savedAndReadBack = page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === `/v1/users/${me.id}/cart`);
    await items.first().locator('input[name="stake"]').fill('5');
    await savedAndReadBack;
    const added = await api('POST', `/v1/users/${me.id}/cart/items`, { token: me.token, body: { match_id: c.id, selection: 'X', stake: 700 } });
    assert.equal(added.status, 201, added.text);
    await slip.getByRole('button', { name: 'Place bets' }).click();
    await blocked.filter({ hasText: 'your cart changed meanwhile' }).waitFor();
    await items.nth(1).waitFor();
    assert.equal((await betsOf(me.id)).length, 2);
    // The typed stake was saved meanwhile: the server's cart has it.
    const cart = (await api('GET', `/v1/users/${me.id}/cart`, { token: me.token })).json;
    assert.deepEqual(cart.items.map((i) => i.stake), [500, 700]);

    // Remove: the focus moves to the next selection's Remove button.
    await items.first().getByRole('button', { name: /^Remove/ }).click();
    await page.waitForFunction(() => document.querySelectorAll('#slip li.cart-item').length === 1);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), `Remove Draw, Ensigns ${RUN} v Fenders ${RUN}`);
    // The last one: the focus goes to the empty slip's note.
    await items.first().getByRole('button', { name: /^Remove/ }).click();
    await slip.getByText('Your slip is empty.').waitFor();
    assert.match(await page.evaluate(() => document.activeElement?.textContent), /Your slip is empty/);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('the cart page: "Update stake" keeps the focus, a typed stake is saved by itself, and leaving saves it too', async () => {
    const a = await matchAt(`Gaffs ${RUN}`, `Halyards ${RUN}`, dayAt(5));
    const me = await newBettor(`Tom ${RUN}`, 10_000);
    const item = await api('POST', `/v1/users/${me.id}/cart/items`, { token: me.token, body: { match_id: a.id, selection: '2', stake: 1000 } });
    assert.equal(item.status, 201, item.text);
    const { context, page, problems } = await bettorPage(browser, DESKTOP, me, '/#cart');
    // The slip steps aside on the cart page: one set of controls.
    assert.equal(await page.locator('#slip').isHidden(), true);
    const row = page.locator('li.cart-item');
    await row.waitFor();
    await row.getByLabel(/Stake/).fill('12.5');
    await row.getByRole('button', { name: 'Update stake' }).click();
    await page.getByText(`Stake on Gaffs ${RUN} v Halyards ${RUN} is now €12.50.`).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Update stake');
    assert.equal(await page.locator('.total-stake').textContent(), '€12.50');
    // Typed, then nothing: saved a moment later, saying so.
    await row.getByLabel(/Stake/).fill('20');
    await row.locator('.save-state', { hasText: 'Not saved yet.' }).waitFor();
    await page.waitForFunction(() => document.querySelector('li.cart-item .save-state')?.textContent === '');
    const saved = async () => (await api('GET', `/v1/users/${me.id}/cart`, { token: me.token })).json.items[0].stake;
    assert.equal(await saved(), 2000);
    // Typed, then off to another page at once: saved as it was left.
    await row.getByLabel(/Stake/).fill('33');
    await page.getByRole('link', { name: 'My bets' }).click();
    const deadline = Date.now() + 5_000;
    while ((await saved()) !== 3300 && Date.now() < deadline) await page.waitForTimeout(100);
    assert.equal(await saved(), 3300);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('phone: three matches on the first screen, the slip one tap away, and the betting flow end to end', async () => {
    const cup = `Phone Cup ${RUN}`;
    // Names of a usual length (the competition, found by the search, is
    // this run's own; a short tag keeps reruns apart). Digits, not RUN's
    // letters: a tag of wide letters ("mwmw") wrapped "Oars … v Pennants …"
    // onto two lines, and the third card then ended below the slip's bar.
    const tag = String(parseInt(RUN.slice(-4), 36) % 10_000).padStart(4, '0');
    // Long names that differ only at the end: the buttons must show them whole.
    const long1 = `Sportverein Blau-Weiß Nordheide ${tag} Erste`;
    const long2 = `Sportverein Blau-Weiß Nordheide ${tag} Zweite`;
    const m = [
      await matchAt(`Keels ${tag}`, `Masts ${tag}`, dayAt(6), { competition: cup, odds: { 1: 1.5, X: 4.0, 2: 6.5 } }),
      await matchAt(`Oars ${tag}`, `Pennants ${tag}`, dayAt(6, 2), { competition: cup }),
      await matchAt(`Rudders ${tag}`, `Sails ${tag}`, dayAt(6, 4), { competition: cup }),
      await matchAt(long1, long2, dayAt(6, 6), { competition: cup }),
    ];
    const me = await newBettor(`Pia ${RUN}`, 250_000);
    const { context, page, problems } = await bettorPage(browser, PHONE, me);
    await search(page, cup, cup);
    await page.evaluate(() => window.scrollTo(0, 0));

    // The first screen: at least three whole match cards above the slip's bar.
    const bar = page.getByRole('button', { name: /^Bet slip/ });
    const barBox = await bar.boundingBox();
    assert.ok(barBox.y + barBox.height <= 844 && barBox.y > 700, `the slip's bar is not at the foot of the screen: ${JSON.stringify(barBox)}`);
    const cardBottoms = await page.locator('li.match').evaluateAll((lis) => lis.map((li) => li.getBoundingClientRect().bottom));
    const whole = cardBottoms.filter((bottom) => bottom <= barBox.y).length;
    assert.ok(whole >= 3, `only ${whole} whole matches above the slip's bar (bottoms ${cardBottoms.map(Math.round)}, bar at ${Math.round(barBox.y)})`);
    await assertFitsWidth(page);
    await screenshot(page, '72-matches-first-screen-phone');

    // Team names on the odds buttons are whole: every letter drawn inside
    // its button, none cut off with an ellipsis; the two teams read apart.
    const picks = await textInside(page.locator(`li.match[data-match-id="${m[3].id}"] .odds-pick`), 'button');
    assert.deepEqual(picks.map((p) => p.text), [long1, 'Draw', long2]);
    for (const pick of picks) assert.ok(pick.inside && !pick.ellipsis, `"${pick.text}" is cut off on its button`);

    // Taps add to the slip; the bar says what is in it.
    await odds(page, m[0], '2').click();
    await bar.filter({ hasText: '1 selection' }).waitFor();
    await odds(page, m[1], '1').click();
    await bar.filter({ hasText: '2 selections, total stake €20.00' }).waitFor();
    assert.equal(await bar.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.locator('#slip .place-bets').isVisible(), false);

    // One tap opens the sheet: selections, stakes, returns, totals, balance after, the button.
    await bar.click();
    assert.equal(await bar.getAttribute('aria-expanded'), 'true');
    const slip = page.locator('#slip');
    const place = slip.getByRole('button', { name: 'Place bets' });
    await place.waitFor();
    assert.equal(await slip.locator('li.cart-item').count(), 2);
    assert.deepEqual(await slip.locator('.payout strong').allTextContents(), ['€65.00', '€21.00']);
    assert.equal(await slip.locator('.balance-after').textContent(), '€2,480.00');
    await place.scrollIntoViewIfNeeded();
    const placeBox = await place.boundingBox();
    assert.ok(placeBox.y >= 0 && placeBox.y + placeBox.height <= 844, `the place button is off screen: ${JSON.stringify(placeBox)}`);
    await assertFitsWidth(page);
    await assertLabelled(page);
    await screenshot(page, '73-slip-sheet-phone');

    // A stake changed on the phone and placed at once is the stake placed.
    await slip.locator('li.cart-item').nth(1).locator('input[name="stake"]').fill('15');
    assert.equal(await slip.locator('.total-stake').textContent(), '€25.00');
    await place.click();
    await slip.getByRole('heading', { name: 'Bets placed' }).waitFor();
    assert.deepEqual((await betsOf(me.id)).map((b) => `${b.match_id}:${b.selection}:${b.stake}`).sort(), [`${m[0].id}:2:1000`, `${m[1].id}:1:1500`].sort());
    await page.locator('#balance', { hasText: '€2,475.00' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Bets placed');
    await bar.filter({ hasText: 'Bet slip: empty' }).waitFor();
    await screenshot(page, '74-slip-placed-phone');

    // Escape closes the sheet, the focus back on its bar.
    await page.keyboard.press('Escape');
    assert.equal(await bar.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('slip-toggle')), true);
    await odds(page, m[1], '1').locator('.odds-held', { hasText: 'Your bet' }).waitFor();
    await assertOddsNamesHoldTheirText(page);
    await assertFitsWidth(page);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('search by any part of a team or competition, in any case; matches grouped by day and competition; every time names its zone', async () => {
    const tag = `Qx${RUN}`;
    const alpha = `Alpha League ${RUN}`;
    const beta = `Beta Cup ${RUN}`;
    const a1 = await matchAt(`Tern ${tag} Athletic`, `Gull ${RUN}`, dayAt(8), { competition: alpha });
    const b1 = await matchAt(`Heron ${RUN}`, `Crane ${tag} FC`, dayAt(8, 1), { competition: beta });
    const a2 = await matchAt(`Ibis ${tag}`, `Stork ${RUN}`, dayAt(8, 3), { competition: alpha });
    const n1 = await matchAt(`Egret ${tag}`, `Swan ${RUN}`, dayAt(9));
    const me = await newBettor(`Uma ${RUN}`, 1000);
    const { context, page, problems } = await bettorPage(browser, DESKTOP, me);

    // One letter is not a search: said next to the box, nothing asked.
    const asked = [];
    page.on('request', (r) => new URL(r.url()).pathname === '/v1/matches' && asked.push(new URL(r.url()).searchParams.get('q')));
    await page.getByLabel('Search matches').fill('x');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('.match-search .field-error', { hasText: 'at least 2 characters' }).waitFor();
    assert.deepEqual(asked.filter((q) => q === 'x'), []);

    // A part of the names, in another case, finds all four.
    await search(page, tag.toLowerCase(), tag);
    const openList = page.locator('[data-list="open"]');
    assert.deepEqual(await openList.locator('li.match').evaluateAll((lis) => lis.map((li) => Number(li.dataset.matchId))), [a1.id, a2.id, b1.id, n1.id]);
    // By day, then by competition (in the order of their first match).
    const days = openList.locator('section.day-group');
    assert.equal(await days.count(), 2);
    // (As the browser's Intl writes a day: "Saturday 21 March 2026".)
    const dayText = (d) => page.evaluate((iso) => new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(iso)), d.toISOString());
    assert.deepEqual(await days.locator('h2').allTextContents(), [await dayText(dayAt(8)), await dayText(dayAt(9))]);
    assert.deepEqual(await days.first().locator('h3.competition-heading').allTextContents(), [alpha, beta]);
    assert.equal(await days.nth(1).locator('h3').count(), 0, 'a day without competitions has no competition heading');
    assert.deepEqual(await days.first().getByRole('heading', { level: 4 }).allTextContents(), [`Tern ${tag} Athletic v Gull ${RUN}`, `Ibis ${tag} v Stork ${RUN}`, `Heron ${RUN} v Crane ${tag} FC`]);
    // Every time on the page names its zone.
    const times = await page.locator('main time').allTextContents();
    assert.ok(times.length >= 4);
    for (const t of times) assert.match(t, /\d\d:\d\d UTC$/, `a time without its zone: "${t}"`);
    assert.deepEqual(await openList.locator('li.match time').allTextContents(), ['12:00 UTC', '15:00 UTC', '13:00 UTC', '12:00 UTC']);
    await page.locator('.zone-note', { hasText: 'Times are in your time zone, UTC' }).waitFor();
    await screenshot(page, '75-search-groups-desktop');

    // The competition's name, in capitals, finds just its matches.
    await search(page, alpha.toUpperCase(), alpha);
    await page.waitForFunction(() => document.querySelectorAll('[data-list="open"] li.match').length === 2);
    assert.deepEqual(await openList.locator('li.match').evaluateAll((lis) => lis.map((li) => Number(li.dataset.matchId))), [a1.id, a2.id]);
    // Nothing found: said so.
    await page.getByLabel('Search matches').fill(`nothing-${RUN}`);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await openList.getByText(`No open matches for “nothing-${RUN}”.`).waitFor();
    // Clear: everything again.
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-list="open"] li.match').length > 0);
    assert.equal(await page.getByLabel('Search matches').inputValue(), '');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('what I already bet on: marked odds, ledger rows that link to their bet and name the match, My bets with kick-off and result', async () => {
    const home = `Puffins ${RUN}`;
    const m1 = await matchAt(home, `Razorbills ${RUN}`, dayAt(10), { odds: { 1: 2.0, X: 3.3, 2: 3.5 } });
    const m2 = await matchAt(`Shearwaters ${RUN}`, home, dayAt(11), { odds: { 1: 1.6, X: 3.8, 2: 5.0 } });
    const m3 = await matchAt(home, `Fulmars ${RUN}`, dayAt(12), { odds: { 1: 2.2, X: 3.1, 2: 3.2 } });
    const me = await newBettor(`Vic ${RUN}`, 10_000);
    const single = (await api('POST', '/v1/bets', { token: me.token, body: { user_id: me.id, match_id: m1.id, selection: '1', stake: 1500 } })).json;
    const acca = (await api('POST', '/v1/bets', { token: me.token, body: { user_id: me.id, legs: [{ match_id: m2.id, selection: 'X' }, { match_id: m3.id, selection: '2' }], stake: 500 } })).json;
    assert.ok(single?.id && acca?.id, 'bets placed');

    const { context, page, problems } = await bettorPage(browser, PHONE, me);
    await showTeam(page, home);
    await odds(page, m1, '1').locator('.odds-held', { hasText: 'Your bet' }).waitFor();
    await odds(page, m2, 'X').locator('.odds-held', { hasText: 'In your acca' }).waitFor();
    await odds(page, m3, '2').locator('.odds-held', { hasText: 'In your acca' }).waitFor();
    assert.equal(await odds(page, m1, '2').locator('.odds-held').textContent(), '');
    assert.equal(await odds(page, m1, '1').getAttribute('aria-label'), `${home} 2.00 Your bet, ${home} v Razorbills ${RUN}`);
    assert.equal(await odds(page, m2, 'X').getAttribute('aria-label'), `Draw 3.80 In your acca, Shearwaters ${RUN} v ${home}`);
    await assertOddsNamesHoldTheirText(page);
    await screenshot(page, '76-held-odds-phone');

    // The first match is settled "1": the single wins 30.00.
    await admin('POST', `/v1/matches/${m1.id}/result`, { result: '1' });

    // My bets: each bet with its kick-off (and zone) and its result.
    await page.goto('/#bets');
    const row = page.locator(`tr[data-bet-id="${single.id}"]`);
    await row.waitFor();
    const kickoff = await page.evaluate((iso) => new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short', timeZone: 'UTC' }).format(new Date(iso)), dayAt(10).toISOString());
    assert.match(kickoff, /12:00 UTC$/);
    assert.equal(await row.locator('td[data-label="Kick-off"]').textContent(), kickoff);
    assert.equal(await row.locator('td[data-label="Result"]').textContent(), `1 · ${home}`);
    assert.equal(await row.locator('td[data-label="Payout"]').textContent(), '€30.00');
    const accaRow = page.locator(`tr[data-bet-id="${acca.id}"]`);
    assert.equal(await accaRow.locator('td[data-label="Result"]').textContent(), '0 of 2 legs decided');
    assert.match(await accaRow.locator('li.leg').first().textContent(), /kick-off .+ UTC · result Not played yet/);
    await assertFitsWidth(page);
    await screenshot(page, '77-my-bets-kickoff-result-phone');

    // The ledger: each bet's rows link to it and name its match.
    await page.getByRole('link', { name: 'Ledger' }).click();
    const payout = page.locator('table.ledger tbody tr[data-kind="payout"]');
    await payout.waitFor();
    assert.equal(await payout.locator('td[data-label="Amount"]').textContent(), '+€30.00');
    const link = payout.getByRole('link', { name: `Bet #${single.id}, ${home} v Razorbills ${RUN}` });
    assert.equal(await link.getAttribute('href'), `#bets/${single.id}`);
    assert.equal(await payout.locator('.bet-match').textContent(), `${home} v Razorbills ${RUN}`);
    const accaStake = page.locator('table.ledger tbody tr[data-kind="stake"]').filter({ hasText: `Bet #${acca.id}` });
    assert.equal(await accaStake.locator('.bet-match').textContent(), `Accumulator: Shearwaters ${RUN} v ${home}, ${home} v Fulmars ${RUN}`);
    assert.equal(await page.locator('table.ledger tbody tr[data-kind="deposit"] td[data-label="Bet"]').textContent(), '–');
    await assertFitsWidth(page);
    await screenshot(page, '78-ledger-links-phone');
    // The link opens that bet.
    await link.click();
    await page.getByRole('heading', { name: `Bet #${single.id}` }).waitFor();
    const only = page.locator('table.data tbody tr');
    await only.first().waitFor();
    assert.equal(await only.count(), 1);
    assert.equal(await only.first().getAttribute('data-bet-id'), String(single.id));
    assert.equal(await only.first().locator('td[data-label="Result"]').textContent(), `1 · ${home}`);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('charts keep every label and figure whole, at any width', async () => {
    const { context, page, problems } = await openPage(browser, DESKTOP);
    const long = 'Wolverhampton Wanderers Football Club (home)';
    for (const width of [280, 390, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.evaluate(async ([label]) => {
        const { barChart, limitChart } = await import('/js/chart.js');
        const main = document.getElementById('main');
        main.replaceChildren(
          barChart('Bets by status', [
            { label: 'pending', value: 5_000_000, text: '1,234 bets · €50,000.00' },
            { label: 'cashed_out', value: 10, text: '1 bet · €0.10' },
          ], { className: 'by-status' }),
          limitChart('Liability per outcome', [
            { label, value: 1_000_000, text: '€10,000.00 of €9,000.00' },
            { label: 'X (draw)', value: -1500, text: '-€15.00 of €9,000.00' },
          ], { limit: 900_000, limitText: 'limit €9,000.00', className: 'exposure-chart' }),
        );
      }, [long]);
      const texts = await textInside(page.locator('.chart .bar-label, .chart .bar-value, .chart .limit-label, .chart figcaption'), 'figure');
      for (const t of texts) {
        assert.ok(t.inside && !t.ellipsis, `at ${width}px "${t.text}" is cut off`);
        assert.ok(t.fontSize >= 11, `at ${width}px "${t.text}" is ${t.fontSize}px`);
      }
      assert.equal((await page.locator('.chart .bar-label').allTextContents())[2], long);
      // The bar over the limit is marked; the one below zero has no length.
      assert.equal(await page.locator('.exposure-chart .bar.over').count(), 1);
      const widths = await page.locator('.exposure-chart .bar-rect').evaluateAll((rs) => rs.map((r) => r.getBoundingClientRect().width));
      assert.ok(widths[0] > 0 && widths[1] === 0, `bar widths ${widths}`);
      const right = await page.locator('.chart').evaluateAll((fs) => Math.max(...fs.map((f) => f.getBoundingClientRect().right)));
      assert.ok(right <= width, `a chart reaches ${right}px on a ${width}px screen`);
      await screenshot(page, `79-charts-${width}`);
    }
    assert.match(await page.locator('.exposure-chart [role="img"]').getAttribute('aria-label'), /Wolverhampton .*: €10,000\.00 of €9,000\.00/);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
