// Trading safety through the web UI (API.md Part 2: odds versions and price
// changes, suspension, limits and exposure): suspended matches for bettors,
// the operator's suspend/resume, limits and exposure bars, the question a
// bettor gets when a price moved, and the limit errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DESKTOP, PHONE, RUN, api, assertFitsWidth, assertLabelled, config, createMatch, createUser, headerBalance, holdLiveUpdates, holdRequests,
  launch, openPage, operatorSignIn, screenshot, showTeam, showTeamToOperator, signUp,
} from './support.mjs';

const enc = encodeURIComponent;

async function admin(method, path, body) {
  const res = await api(method, path, { token: config().adminToken, body });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

async function credit(userId, cents) {
  await admin('POST', `/v1/users/${userId}/deposits`, { amount: cents });
}

// The bettor's bets as the API has them, oldest first.
async function betsOf(userId) {
  const res = await api('GET', `/v1/users/${userId}/bets?sort=created_at`, { token: config().adminToken });
  assert.equal(res.status, 200, res.text);
  return res.json.items;
}

// Adds a selection from the matches page with the given stake; returns when
// the cart badge shows `count` items.
async function addToCart(page, match, selectionName, stake, count) {
  await page.getByLabel('Stake per selection').fill(stake);
  await page.locator(`li[data-match-id="${match.id}"]`).getByRole('button', { name: new RegExp(`^${selectionName} \\d`) }).click();
  await page.locator('#cart-count', { hasText: String(count) }).waitFor();
}

// Opens the cart page and returns once its own read of the cart has been
// answered. Until then it shows the cart the previous page read (it draws
// that one as soon as anything else changes), so a price moved meanwhile
// could still reach the page with that read: "Bet now" would then rightly
// send the new price, and there would be no question to test.
async function openCart(page) {
  const read = page.waitForResponse((r) => r.request().method() === 'GET' && /^\/v1\/users\/\d+\/cart$/.test(new URL(r.url()).pathname));
  await page.getByRole('link', { name: /Cart/ }).click();
  await read;
}

// The JSON bodies of the page's POSTs to `path` (a RegExp on the URL path).
function recordPosts(page, path) {
  const bodies = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && path.test(new URL(r.url()).pathname)) bodies.push(r.postDataJSON());
  });
  return bodies;
}

describe('trading safety in the web UI', () => {
  let browser;
  before(async () => {
    config();
    browser = await launch();
  });
  after(async () => browser?.close());

  test('a bettor sees a suspended match marked "Suspended" with its odds buttons disabled', async () => {
    const team = `Pilots ${RUN}`;
    const open = await createMatch(team, `Comets ${RUN}`, { daysAhead: 3 });
    const paused = await createMatch(`Comets ${RUN}`, team, { daysAhead: 4 });
    const suspended = await admin('POST', `/v1/matches/${paused.id}/suspend`, {});
    assert.equal(suspended.status, 'suspended');
    // The match list answers it with status suspended.
    const listed = await api('GET', `/v1/matches?status=suspended&team=${enc(team)}`);
    assert.deepEqual(listed.json.items.map((m) => [m.id, m.status]), [[paused.id, 'suspended']]);

    const bettor = await openPage(browser, PHONE, '/#account');
    const me = await signUp(bettor.page, `Eve ${RUN}`);
    await credit(me.id, 5_000);
    // Live updates held back, so the tap below races a suspension the page
    // has not heard of yet (stream.test.mjs covers the page that has).
    await holdLiveUpdates(bettor.page);
    await showTeam(bettor.page, team);
    const pausedCard = bettor.page.locator(`li.match[data-match-id="${paused.id}"]`);
    const openCard = bettor.page.locator(`li.match[data-match-id="${open.id}"]`);
    // Listed apart, marked, and no button can be pressed.
    const section = bettor.page.getByRole('region', { name: 'Suspended for now' });
    assert.equal(await section.locator(`li[data-match-id="${paused.id}"]`).count(), 1);
    assert.equal(await section.locator(`li[data-match-id="${open.id}"]`).count(), 0);
    assert.equal((await pausedCard.locator('.tag').textContent()).trim(), 'Suspended');
    assert.deepEqual(await pausedCard.getByRole('button').evaluateAll((bs) => bs.map((b) => b.disabled)), [true, true, true]);
    assert.deepEqual(await openCard.getByRole('button').evaluateAll((bs) => bs.map((b) => b.disabled)), [false, false, false]);
    assert.equal(await openCard.locator('.tag').count(), 0);
    await assertFitsWidth(bettor.page);
    await assertLabelled(bettor.page);
    await screenshot(bettor.page, '30-suspended-match-phone');

    // Suspended while the page is open: the tap is refused with the message
    // next to the match, which then shows as suspended; nothing in the cart.
    await admin('POST', `/v1/matches/${open.id}/suspend`, {});
    await openCard.getByRole('button', { name: /^Draw \d/ }).click();
    const alert = openCard.getByRole('alert');
    await alert.filter({ hasText: 'suspended' }).waitFor();
    assert.equal(await alert.textContent(), 'Betting on this match is suspended for now. Try again later.');
    assert.equal(await alert.getAttribute('data-code'), 'match_suspended');
    assert.deepEqual(await openCard.getByRole('button').evaluateAll((bs) => bs.map((b) => b.disabled)), [true, true, true]);
    assert.equal((await openCard.locator('.tag').textContent()).trim(), 'Suspended');
    assert.equal(await bettor.page.locator('#cart-count').isHidden(), true);
    await screenshot(bettor.page, '31-suspended-meanwhile-phone');

    // Resumed: back in the open list with working buttons.
    await admin('POST', `/v1/matches/${paused.id}/resume`, {});
    await bettor.page.reload();
    await showTeam(bettor.page, team);
    await bettor.page.locator(`[data-list="open"] li[data-match-id="${paused.id}"]`).waitFor();
    assert.deepEqual(await pausedCard.getByRole('button').evaluateAll((bs) => bs.map((b) => b.disabled)), [false, false, false]);
    assert.equal(await pausedCard.locator('.tag').count(), 0);
    await addToCart(bettor.page, paused, 'Draw', '2.00', 1);
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('Suspend acts once: a second click while it is on its way, or the double click\'s second on the Resume that replaced it, changes nothing', async () => {
    const team = `Kites ${RUN}`;
    const match = await createMatch(team, `Owls ${RUN}`, { daysAhead: 5 });
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await showTeamToOperator(op.page, team);
    const card = op.page.locator(`li[data-match-id="${match.id}"]`);
    const sent = [];
    op.page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (r.method() === 'POST' && path.startsWith(`/v1/matches/${match.id}/`)) sent.push(path.split('/').at(-1));
    });

    // The suspension is held on its way: a second click meanwhile is ignored.
    const suspending = await holdRequests(op.page, `**/v1/matches/${match.id}/suspend`);
    const suspend = card.getByRole('button', { name: 'Suspend' });
    const box = await suspend.boundingBox();
    const x = box.x + box.width / 2;
    const y = box.y + box.height / 2;
    await op.page.mouse.click(x, y);
    await suspending.reached;
    await op.page.mouse.click(x, y);
    suspending.release();
    await card.getByText('Suspended: no bets are taken on this match until you resume it.').waitFor();
    const resume = card.getByRole('button', { name: 'Resume' });
    const at = await resume.boundingBox();
    assert.ok(x >= at.x && x <= at.x + at.width && y >= at.y && y <= at.y + at.height, 'Resume is where Suspend was');

    // The second click of a double click (its detail is 2) lands on Resume:
    // ignored too.
    await op.page.mouse.move(x, y);
    await op.page.mouse.down({ clickCount: 2 });
    await op.page.mouse.up({ clickCount: 2 });
    // An exposure read after it: once it is drawn, every click before it
    // has been handled.
    await card.getByRole('button', { name: 'Exposure' }).click();
    await card.locator('.exposure-summary').waitFor();
    assert.deepEqual(sent, ['suspend']);
    assert.equal((await api('GET', `/v1/matches/${match.id}`)).json.status, 'suspended');
    assert.equal((await card.locator('.tag').textContent()).trim(), 'suspended');
    assert.deepEqual(op.problems, []);
    await op.context.close();
  });

  test('the operator suspends and resumes a match', async () => {
    const team = `Falcons ${RUN}`;
    const match = await createMatch(team, `Hawks ${RUN}`, { daysAhead: 5 });
    const other = await createMatch(`Hawks ${RUN}`, team, { daysAhead: 6 }); // stays open
    assert.equal(match.odds_version, 1);
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await showTeamToOperator(op.page, team);
    const card = op.page.locator(`li[data-match-id="${match.id}"]`);
    assert.equal((await card.locator('.tag').textContent()).trim(), 'open');
    assert.equal(await card.getByRole('button', { name: 'Resume' }).count(), 0);

    await card.getByRole('button', { name: 'Suspend' }).click();
    await card.getByText('Suspended: no bets are taken on this match until you resume it.').waitFor();
    assert.equal((await card.locator('.tag').textContent()).trim(), 'suspended');
    assert.equal(await card.getByRole('button', { name: 'Suspend' }).count(), 0);
    let now = (await api('GET', `/v1/matches/${match.id}`)).json;
    assert.equal(now.status, 'suspended');
    assert.equal(now.odds_version, 2);
    // Bets are refused now.
    const bettor = await createUser(`Fay ${RUN}`, 1_000);
    const refused = await api('POST', '/v1/bets', { token: bettor.token, body: { user_id: bettor.id, match_id: match.id, selection: '1', stake: 100 } });
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.json.code, 'match_suspended');
    // Prices can still be changed while suspended.
    assert.equal(await card.getByLabel(/^X/).isEnabled(), true);
    await assertLabelled(op.page);
    await screenshot(op.page, '32-operator-suspended');

    // The status filter finds it among the suspended matches, without the open one.
    assert.equal(await op.page.locator(`li[data-match-id="${other.id}"]`).count(), 1);
    await op.page.getByLabel('Status').selectOption('suspended');
    await op.page.waitForFunction(
      (id) => {
        const items = [...document.querySelectorAll('li.admin-match')];
        return items.some((li) => li.dataset.matchId === String(id)) && items.every((li) => li.dataset.status === 'suspended');
      },
      match.id,
    );
    assert.equal(await op.page.locator(`li[data-match-id="${other.id}"]`).count(), 0);

    await card.getByRole('button', { name: 'Resume' }).click();
    await card.getByText('Resumed: bets are taken again.').waitFor();
    assert.equal((await card.locator('.tag').textContent()).trim(), 'open');
    now = (await api('GET', `/v1/matches/${match.id}`)).json;
    assert.equal(now.status, 'open');
    assert.equal(now.odds_version, 3);
    const placed = await api('POST', '/v1/bets', { token: bettor.token, body: { user_id: bettor.id, match_id: match.id, selection: '1', stake: 100 } });
    assert.equal(placed.status, 201, placed.text);
    assert.deepEqual(op.problems, []);
    await op.context.close();
  });

  test('the operator sets limits and sees the liability per outcome as bars after bets', async () => {
    const team = `Owls ${RUN}`;
    const match = await createMatch(team, `Ravens ${RUN}`, { daysAhead: 6, odds: { 1: 2.5, X: 3.2, 2: 2.8 } });
    assert.equal(match.max_stake, null);
    assert.equal(match.max_liability, null);
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await showTeamToOperator(op.page, team);
    const card = op.page.locator(`li[data-match-id="${match.id}"]`);

    // Not an amount: refused in the browser, next to the field.
    await card.getByLabel('Max stake').fill('lots');
    await card.getByRole('button', { name: 'Save limits' }).click();
    assert.match(await card.locator('[data-field="max_stake"] + .field-error').textContent(), /amount/);
    assert.equal((await api('GET', `/v1/matches/${match.id}`)).json.max_stake, null);

    await card.getByLabel('Max stake').fill('20');
    await card.getByLabel('Max liability').fill('100.00');
    await card.getByRole('button', { name: 'Save limits' }).click();
    await card.getByText('Limits saved.').waitFor();
    let now = (await api('GET', `/v1/matches/${match.id}`)).json;
    assert.equal(now.max_stake, 2000);
    assert.equal(now.max_liability, 10_000);
    assert.equal(now.odds_version, 1); // limits are not prices
    assert.equal(await card.getByLabel('Max stake').inputValue(), '20.00');
    assert.equal(await card.getByLabel('Max liability').inputValue(), '100.00');

    // Two bets: 10.00 on 1 at 2.50 and 5.00 on X at 3.20. Stakes 15.00;
    // liability 1: 25.00 - 15.00 = 10.00, X: 16.00 - 15.00 = 1.00, 2: -15.00.
    const bettor = await createUser(`Gus ${RUN}`, 10_000);
    for (const [selection, stake] of [['1', 1000], ['X', 500]]) {
      const placed = await api('POST', '/v1/bets', { token: bettor.token, body: { user_id: bettor.id, match_id: match.id, selection, stake } });
      assert.equal(placed.status, 201, placed.text);
    }
    const toggle = card.getByRole('button', { name: 'Exposure', exact: true });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    await toggle.click();
    const panel = card.getByRole('region', { name: /^Exposure on/ });
    await panel.locator('figure [role="img"]').waitFor();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    assert.equal(await panel.locator('.exposure-summary').textContent(), '2 pending bets · liability limit 100.00');
    assert.deepEqual(await panel.locator('.bar-value').allTextContents(), ['10.00 of 100.00', '1.00 of 100.00', '-15.00 of 100.00']);
    const widths = (await panel.locator('.bar-rect').evaluateAll((rs) => rs.map((r) => r.getBoundingClientRect().width)));
    assert.ok(widths[0] > widths[1] && widths[1] > 0 && widths[2] === 0, `bar widths ${widths}`);
    assert.equal(await panel.locator('.limit-line').count(), 1);
    assert.match(await panel.locator('figure [role="img"]').getAttribute('aria-label'), /1 \(home\): 10\.00 of 100\.00/);
    assert.deepEqual(
      await panel.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent))),
      [
        [`1 · ${team}`, '10.00', '25.00', '10.00'],
        [`X · Draw`, '5.00', '16.00', '1.00'],
        [`2 · Ravens ${RUN}`, '0.00', '0.00', '-15.00'],
      ],
    );
    await assertLabelled(op.page);
    await screenshot(op.page, '33-operator-exposure');

    // Another bet; the refreshed view follows: 1 is now 25.00 - 25.00 = 0.00,
    // 2: 28.00 - 25.00 = 3.00.
    const third = await api('POST', '/v1/bets', { token: bettor.token, body: { user_id: bettor.id, match_id: match.id, selection: '2', stake: 1000 } });
    assert.equal(third.status, 201, third.text);
    await panel.getByRole('button', { name: 'Refresh exposure' }).click();
    await panel.locator('.exposure-summary', { hasText: '3 pending bets' }).waitFor();
    assert.deepEqual(await panel.locator('.bar-value').allTextContents(), ['0.00 of 100.00', '-9.00 of 100.00', '3.00 of 100.00']);

    // Emptying a limit removes it (sent as null); the open panel follows.
    await card.getByLabel('Max liability').fill('');
    await card.getByRole('button', { name: 'Save limits' }).click();
    await panel.locator('.exposure-summary', { hasText: 'no liability limit' }).waitFor();
    assert.equal(await card.getByText('Limits saved.').count(), 1);
    now = (await api('GET', `/v1/matches/${match.id}`)).json;
    assert.equal(now.max_liability, null);
    assert.equal(now.max_stake, 2000);
    assert.equal(await panel.locator('.limit-line').count(), 0);
    assert.deepEqual(await panel.locator('.bar-value').allTextContents(), ['0.00', '-9.00', '3.00']);
    assert.deepEqual(op.problems, []);
    await op.context.close();
  });

  test('a bettor whose price moved is asked, and on yes the bet is placed at the new price', async () => {
    const team = `Badgers ${RUN}`;
    const match = await createMatch(team, `Foxes ${RUN}`, { daysAhead: 4, odds: { 1: 2.1, X: 3.25, 2: 3.6 } });
    const bettor = await openPage(browser, PHONE, '/#account');
    const me = await signUp(bettor.page, `Hal ${RUN}`);
    await credit(me.id, 10_000);
    const betBodies = recordPosts(bettor.page, /^\/v1\/bets$/);
    const checkoutBodies = recordPosts(bettor.page, /\/cart\/checkout$/);

    await showTeam(bettor.page, team);
    await addToCart(bettor.page, match, team, '10.00', 1);
    await addToCart(bettor.page, match, 'Draw', '5.00', 2);
    await addToCart(bettor.page, match, `Foxes ${RUN}`, '2.00', 3);
    await openCart(bettor.page);
    const homeItem = bettor.page.locator('li.cart-item', { hasText: `${team} (1) at` });
    await homeItem.locator('.price', { hasText: '2.10' }).waitFor();
    const setting = bettor.page.getByLabel('If the price changes');
    assert.equal(await setting.inputValue(), 'none');
    assert.equal(await setting.locator('option:checked').textContent(), 'No price changes');

    // The price moves after the cart was shown; "Bet now" sends the shown one.
    await admin('PATCH', `/v1/matches/${match.id}`, { odds: { 1: 2.4 } });
    await homeItem.getByRole('button', { name: /^Bet now/ }).click();
    const dialog = bettor.page.getByRole('dialog', { name: 'The price has changed' });
    await dialog.waitFor();
    assert.match(await dialog.textContent(), new RegExp(`${team}, Badgers ${RUN} v Foxes ${RUN}: 2\\.10 → 2\\.40`));
    assert.equal((await betsOf(me.id)).length, 0, 'nothing placed before the bettor answers');
    await assertFitsWidth(bettor.page);
    await screenshot(bettor.page, '34-price-changed-phone');
    await dialog.getByRole('button', { name: 'Bet at 2.40' }).click();
    await bettor.page.getByRole('heading', { name: 'Bet placed' }).waitFor();
    assert.match(await bettor.page.getByRole('status').filter({ hasText: 'Placed' }).textContent(), / at 2\.40, stake €10\.00\.$/);
    assert.equal(await dialog.count(), 0);
    assert.deepEqual(
      betBodies.map((b) => [b.odds, b.accept_price_change, b.selection, b.stake]),
      [[2.1, 'none', '1', 1000], [2.4, 'none', '1', 1000]],
    );
    let bets = await betsOf(me.id);
    assert.deepEqual(bets.map((b) => [b.selection, b.odds, b.stake, b.potential_payout]), [['1', 2.4, 1000, 2400]]);
    await bettor.page.locator('#balance', { hasText: '90.00' }).waitFor();
    await bettor.page.locator('#cart-count', { hasText: '2' }).waitFor();

    // Checkout: the cart holds the draw at 3.25 when the price moves to 3.50.
    // Only the draw is in the cart for this part.
    const awayItem = bettor.page.locator('li.cart-item', { hasText: `Foxes ${RUN} (2) at` });
    await awayItem.getByRole('button', { name: /^Remove/ }).click();
    await bettor.page.locator('#cart-count', { hasText: '1' }).waitFor();
    await admin('PATCH', `/v1/matches/${match.id}`, { odds: { X: 3.5 } });
    await bettor.page.getByRole('button', { name: 'Place bets', exact: true }).click();
    const asked = bettor.page.getByRole('dialog', { name: 'The price has changed' });
    await asked.waitFor();
    assert.match(await asked.textContent(), /Draw, Badgers .* v Foxes .*: 3\.25 → 3\.50/);
    // Behind the question, the cart shows the price now and when added.
    const drawItem = bettor.page.locator('li.cart-item', { hasText: 'Draw (X) at' });
    assert.equal(await drawItem.locator('.price').textContent(), '3.50');
    assert.equal(await drawItem.locator('.price-moved').textContent(), ' (was 3.25 when added)');
    assert.equal(await drawItem.getByRole('alert').getAttribute('data-code'), 'odds_changed');
    assert.equal((await betsOf(me.id)).length, 1, 'nothing placed before the bettor answers');
    await screenshot(bettor.page, '35-checkout-price-changed-phone');
    await asked.getByRole('button', { name: 'Accept new price' }).click();
    await bettor.page.getByRole('heading', { name: 'Bets placed' }).waitFor();
    assert.deepEqual(checkoutBodies, [{ accept_price_change: 'none' }, { accept_price_change: 'none' }]);
    bets = await betsOf(me.id);
    assert.deepEqual(bets.map((b) => [b.selection, b.odds, b.stake]), [['1', 2.4, 1000], ['X', 3.5, 500]]);
    await bettor.page.locator('#balance', { hasText: '85.00' }).waitFor();

    // Saying no places nothing and says why, next to the item.
    await showTeam(bettor.page, team);
    await addToCart(bettor.page, match, `Foxes ${RUN}`, '2.00', 1);
    await openCart(bettor.page);
    const away = bettor.page.locator('li.cart-item', { hasText: `Foxes ${RUN} (2) at` });
    await away.locator('.price', { hasText: '3.60' }).waitFor();
    await admin('PATCH', `/v1/matches/${match.id}`, { odds: { 2: 3.4 } });
    await away.getByRole('button', { name: /^Bet now/ }).click();
    await bettor.page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    const refusal = away.getByRole('alert');
    await refusal.filter({ hasText: 'price' }).waitFor();
    assert.equal(await refusal.textContent(), 'The price has changed to 3.40. Nothing was placed.');
    assert.equal((await betsOf(me.id)).length, 2);

    // "Accept any price change" is remembered and places at the price now,
    // without asking (the item still shows 3.60).
    await setting.selectOption({ label: 'Accept any price change' });
    assert.equal(await bettor.page.evaluate(() => localStorage.getItem('betsdb.acceptPriceChange')), 'any');
    await away.getByRole('button', { name: /^Bet now/ }).click();
    await bettor.page.getByRole('heading', { name: 'Bet placed' }).waitFor();
    assert.equal(await bettor.page.getByRole('dialog').count(), 0);
    assert.match(await bettor.page.getByRole('status').filter({ hasText: 'Placed' }).textContent(), / at 3\.40 \(the price moved from 3\.60\), stake €2\.00\.$/);
    assert.deepEqual(betBodies.at(-1), { user_id: me.id, match_id: match.id, selection: '2', stake: 200, odds: 3.6, accept_price_change: 'any' });
    bets = await betsOf(me.id);
    assert.deepEqual(bets.at(-1).odds, 3.4);
    await bettor.page.reload();
    await bettor.page.getByLabel('If the price changes').waitFor();
    assert.equal(await bettor.page.getByLabel('If the price changes').inputValue(), 'any');
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('a stake above the match\'s maximum and a bet over its liability limit are refused with the limit errors', async () => {
    const capped = await createMatch(`Otters ${RUN}`, `Beavers ${RUN}`, { daysAhead: 5, limits: { max_stake: 500 } });
    const guarded = await createMatch(`Beavers ${RUN}`, `Otters ${RUN}`, { daysAhead: 6, limits: { max_liability: 500 } });
    assert.equal(capped.max_stake, 500);
    const bettor = await openPage(browser, PHONE, '/#account');
    const me = await signUp(bettor.page, `Ivy ${RUN}`);
    await credit(me.id, 10_000);
    await showTeam(bettor.page, `Otters ${RUN}`);
    const card = bettor.page.locator(`li[data-match-id="${capped.id}"]`);
    assert.equal(await card.locator('.limit-note').textContent(), 'Maximum stake €5.00');

    // Adding 10.00 on a match that takes at most 5.00: refused next to it.
    await bettor.page.getByLabel('Stake per selection').fill('10.00');
    await card.getByRole('button', { name: /^Draw \d/ }).click();
    const alert = card.getByRole('alert');
    await alert.filter({ hasText: 'maximum' }).waitFor();
    assert.equal(await alert.textContent(), 'This stake is above the maximum stake of €5.00 for this match.');
    assert.equal(await alert.getAttribute('data-code'), 'stake_above_max');
    assert.equal(await bettor.page.locator('#cart-count').isHidden(), true);
    await assertFitsWidth(bettor.page);
    await screenshot(bettor.page, '36-stake-above-max-phone');

    // 5.00 goes in; raising it in the cart is refused next to the item.
    await addToCart(bettor.page, capped, 'Draw', '5.00', 1);
    await bettor.page.getByRole('link', { name: /Cart/ }).click();
    const item = bettor.page.locator('li.cart-item', { hasText: `Otters ${RUN} v Beavers ${RUN}` });
    await item.getByLabel(/Stake/).fill('6.00');
    await item.getByRole('button', { name: 'Update stake' }).click();
    const itemAlert = item.getByRole('alert');
    await itemAlert.filter({ hasText: 'maximum' }).waitFor();
    assert.equal(await itemAlert.getAttribute('data-code'), 'stake_above_max');
    await item.getByRole('button', { name: /^Remove/ }).click();
    await bettor.page.locator('#cart-count').waitFor({ state: 'hidden' });

    // 10.00 at 2.10 on the other match would lose the book 11.00 if it won:
    // over its 5.00 liability limit. Nothing is charged.
    await showTeam(bettor.page, `Otters ${RUN}`);
    await addToCart(bettor.page, guarded, `Beavers ${RUN}`, '10.00', 1);
    await bettor.page.getByRole('link', { name: /Cart/ }).click();
    await bettor.page.getByRole('button', { name: 'Place bets', exact: true }).click();
    const refused = bettor.page.locator('[role="alert"][data-code="liability_limit_exceeded"]:not([hidden])');
    await refused.waitFor();
    assert.match(await refused.textContent(), /liability limit/);
    assert.equal(await bettor.page.locator('li.cart-item').count(), 1);
    assert.equal(await headerBalance(bettor.page), '€100.00');
    assert.equal((await betsOf(me.id)).length, 0);
    await screenshot(bettor.page, '37-liability-limit-phone');
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });
});
