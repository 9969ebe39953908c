// The whole betting flow through the UI: cart, checkout, my bets, the
// operator's settlement, the payout in the bettor's balance and ledger, the
// summary chart, and the error paths (insufficient funds, duplicate bet).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DESKTOP, PHONE, RUN, api, assertFitsWidth, assertLabelled, config, createMatch, headerBalance, holdLiveUpdates, holdRequests, launch,
  openPage, operatorSignIn, screenshot, showTeam, showTeamToOperator, signUp, openOperatorTab
} from './support.mjs';

// Adds a selection from the matches page with the given stake; returns when
// the cart badge shows `count` items.
async function addToCart(page, match, selectionName, stake, count) {
  await page.getByLabel('Stake per selection').fill(stake);
  await page.locator(`li[data-match-id="${match.id}"]`).getByRole('button', { name: new RegExp(`^${selectionName} \\d`) }).click();
  await page.locator('#cart-count', { hasText: String(count) }).waitFor();
}

// A new bettor on a phone, credited `amount` cents, with one selection of
// `match` (found by its home team) in the cart at `stake`.
async function bettorWithOneSelection(browser, name, match, home, selectionName, stake, amount) {
  const bettor = await openPage(browser, PHONE, '/#account');
  const me = await signUp(bettor.page, name);
  const credited = await api('POST', `/v1/users/${me.id}/deposits`, { token: config().adminToken, body: { amount } });
  assert.equal(credited.status, 201, credited.text);
  await showTeam(bettor.page, home);
  await bettor.page.locator(`li[data-match-id="${match.id}"]`).waitFor();
  await addToCart(bettor.page, match, selectionName, stake, 1);
  return { bettor, me };
}

describe('betting through the web UI', () => {
  let browser;
  before(async () => {
    config();
    browser = await launch();
  });
  after(async () => browser?.close());

  test('a bettor bets through the cart, the operator settles, the bettor sees the payout', async () => {
    const home = `Rovers ${RUN}`;
    const a = await createMatch(home, `United ${RUN}`, { daysAhead: 3, odds: { 1: 2.1, X: 3.25, 2: 3.6 } });
    const b = await createMatch(`City ${RUN}`, home, { daysAhead: 5, odds: { 1: 1.8, X: 3.5, 2: 4.2 } });

    const bettor = await openPage(browser, PHONE, '/#account');
    const me = await signUp(bettor.page, `Bob ${RUN}`);

    // The operator credits 100.00 from the Accounts page.
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await openOperatorTab(op.page, 'Accounts');
    const credit = op.page.locator('form:has(#credit-heading)');
    await credit.getByLabel('Account number').fill(String(me.id));
    await credit.getByLabel('Amount').fill('100');
    await credit.getByRole('button', { name: 'Credit' }).click();
    await credit.getByText(`Credited 100.00 to account #${me.id}. Balance is now 100.00.`).waitFor();

    // Two selections into the cart from the matches page.
    await showTeam(bettor.page, home);
    await addToCart(bettor.page, a, home, '10.00', 1);
    await addToCart(bettor.page, b, 'Draw', '10.00', 2);
    assert.equal(await bettor.page.locator(`li[data-match-id="${a.id}"] button[aria-pressed="true"]`).count(), 1);
    await assertFitsWidth(bettor.page);
    await screenshot(bettor.page, '10-matches-with-cart-phone');

    // Edit a stake in the cart; totals and payout follow.
    await bettor.page.getByRole('link', { name: /Cart/ }).click();
    const drawItem = bettor.page.locator('li.cart-item', { hasText: `City ${RUN} v ${home}` });
    await drawItem.getByLabel(/Stake/).fill('15.50');
    await drawItem.getByRole('button', { name: 'Update stake' }).click();
    await bettor.page.getByText(`Stake on City ${RUN} v ${home} is now €15.50.`).waitFor();
    assert.equal(await bettor.page.locator('.total-stake').textContent(), '€25.50');
    // floor(1000 * 2.10) + floor(1550 * 3.50) = 2100 + 5425
    assert.equal(await bettor.page.locator('.total-payout').textContent(), '€75.25');
    assert.equal(await bettor.page.locator('.balance-after').textContent(), '€74.50');
    assert.match(await bettor.page.locator('.expires').textContent(), /in 3 days/);
    await assertFitsWidth(bettor.page);
    await assertLabelled(bettor.page);
    await screenshot(bettor.page, '11-cart-phone');

    // Check out: bets placed, balance 100.00 - 25.50.
    await bettor.page.getByRole('button', { name: 'Place bets' }).click();
    await bettor.page.getByRole('heading', { name: 'Bets placed' }).waitFor();
    assert.equal(await bettor.page.locator('.receipt li').count(), 2);
    await bettor.page.locator('#balance', { hasText: '€74.50' }).waitFor();
    assert.equal(await bettor.page.locator('#cart-count').isHidden(), true);
    await screenshot(bettor.page, '12-checkout-done-phone');

    // My bets: both pending; the filter narrows by status.
    await bettor.page.getByRole('link', { name: 'See my bets' }).click();
    const rows = bettor.page.locator('table.data tbody tr');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    assert.deepEqual(await bettor.page.locator('table.data tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.status)), ['pending', 'pending']);
    await bettor.page.getByLabel('Status').selectOption('won');
    await bettor.page.getByText('No won bets.').waitFor();
    await bettor.page.getByLabel('Status').selectOption('');
    await rows.nth(1).waitFor();
    await assertFitsWidth(bettor.page);
    await assertLabelled(bettor.page);
    await screenshot(bettor.page, '13-my-bets-phone');

    // The operator enters "1" for match A: the bet on it wins 21.00.
    await showTeamToOperator(op.page, home);
    const card = op.page.locator(`li[data-match-id="${a.id}"]`);
    await card.getByLabel(/^Result/).selectOption('1');
    await card.getByRole('button', { name: 'Enter result' }).click();
    // Asked twice: what it pays out, then, before kick-off, once more.
    await op.page.getByRole('alertdialog', { name: /^Settle / }).getByRole('button', { name: 'Settle as 1' }).click();
    await op.page.getByRole('alertdialog', { name: 'Settle before kick-off?' }).getByRole('button', { name: 'Yes, settle before kick-off' }).click();
    await card.getByText('Settled as 1: 1 won, 0 lost, 0 void; paid out 21.00, refunded 0.00.').waitFor();
    await assertLabelled(op.page);
    await screenshot(op.page, '14-operator-settled');

    // The bettor sees the win and the new balance: 74.50 + 21.00.
    await bettor.page.reload();
    const won = bettor.page.locator(`table.data tbody tr[data-status="won"]`);
    await won.waitFor();
    assert.match(await won.textContent(), new RegExp(`Rovers ${RUN} v United ${RUN}`));
    await bettor.page.locator('#balance', { hasText: '95.50' }).waitFor();
    await screenshot(bettor.page, '15-my-bets-settled-phone');

    // The ledger: deposit, two stakes, the payout; balance_after adds up.
    await bettor.page.getByRole('link', { name: 'Ledger' }).click();
    const ledger = bettor.page.locator('table.data tbody tr');
    await ledger.nth(3).waitFor();
    assert.deepEqual(await ledger.evaluateAll((trs) => trs.map((tr) => tr.dataset.kind)), ['payout', 'stake', 'stake', 'deposit']);
    assert.equal(await ledger.nth(0).locator('td').nth(2).textContent(), '+€21.00');
    assert.equal(await ledger.nth(0).locator('td').nth(3).textContent(), '€95.50');
    await assertFitsWidth(bettor.page);
    await screenshot(bettor.page, '16-ledger-phone');

    // Betting on the same selection again is a duplicate bet, shown next to the item.
    await showTeam(bettor.page, home);
    await bettor.page.locator(`li[data-match-id="${b.id}"]`).waitFor();
    await addToCart(bettor.page, b, 'Draw', '1.00', 1);
    await bettor.page.getByRole('link', { name: /Cart/ }).click();
    // The item is shown before the tap (a tap before the cart is drawn puts
    // the message by the button: there is no item yet to put it next to).
    await bettor.page.locator('li.cart-item').waitFor();
    await bettor.page.getByRole('button', { name: 'Place bets' }).click();
    const itemError = bettor.page.locator('li.cart-item [role="alert"]:not([hidden])');
    await itemError.waitFor();
    assert.match(await itemError.textContent(), /already have a bet on this selection/);
    assert.equal(await itemError.getAttribute('data-code'), 'duplicate_bet');
    await bettor.page.locator('#balance', { hasText: '95.50' }).waitFor();
    await screenshot(bettor.page, '17-duplicate-bet-phone');

    // The summary shows the figures and the charts; the bet list has the bets.
    await openOperatorTab(op.page, 'Summary');
    await op.page.locator('figure.by-status [role="img"]').waitFor();
    const totalBets = Number(await op.page.locator('.total-bets').textContent());
    assert.ok(totalBets >= 2, `summary counts ${totalBets} bets`);
    assert.match(await op.page.locator('figure.by-status [role="img"]').getAttribute('aria-label'), /won: \d+ bets?/);
    await screenshot(op.page, '18-operator-summary');
    await openOperatorTab(op.page, 'All bets');
    await op.page.getByLabel('Match number').fill(String(a.id));
    await op.page.getByRole('button', { name: 'Show' }).click();
    const allRows = op.page.locator('table.data tbody tr');
    // The unfiltered list may still be on screen: wait for the filtered one
    // (bounded by the default timeout; a filter that does nothing fails here).
    await op.page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 1);
    assert.equal(await allRows.count(), 1);
    assert.match(await allRows.first().textContent(), new RegExp(`#${me.id}`));
    await assertLabelled(op.page);
    await screenshot(op.page, '19-operator-all-bets');

    assert.deepEqual(bettor.problems, []);
    assert.deepEqual(op.problems, []);
    await bettor.context.close();
    await op.context.close();
  });

  test('checking out more than the balance shows "insufficient funds" by the button and keeps the cart', async () => {
    const match = await createMatch(`Wanderers ${RUN}`, `Athletic ${RUN}`, { daysAhead: 4 });
    const { bettor, me } = await bettorWithOneSelection(browser, `Cy ${RUN}`, match, `Wanderers ${RUN}`, `Athletic ${RUN}`, '12.00', 500);
    await bettor.page.getByRole('link', { name: /Cart/ }).click();
    await bettor.page.locator('#balance', { hasText: '5.00' }).waitFor();
    await bettor.page.locator('li.cart-item').waitFor(); // a tap before the cart is drawn does nothing (below)
    await bettor.page.getByRole('button', { name: 'Place bets' }).click();
    const message = bettor.page.locator('.checkout [role="alert"]');
    await message.waitFor();
    assert.equal(await message.textContent(), 'Insufficient funds: your balance is €5.00 and these bets need €12.00.');
    assert.equal(await message.getAttribute('data-code'), 'insufficient_funds');
    // Nothing changed: the item is still in the cart, the balance is intact.
    assert.equal(await bettor.page.locator('li.cart-item').count(), 1);
    assert.equal(await headerBalance(bettor.page), '€5.00');
    assert.equal((await api('GET', `/v1/users/${me.id}/bets`, { token: config().adminToken })).json.total, 0);
    await assertFitsWidth(bettor.page);
    await screenshot(bettor.page, '20-insufficient-funds-phone');
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('a tap on "Place bets" before the cart is on screen does nothing; once it is, the tap places it', async () => {
    const match = await createMatch(`Rangers ${RUN}`, `Borough ${RUN}`, { daysAhead: 9 });
    const { bettor, me } = await bettorWithOneSelection(browser, `Ed ${RUN}`, match, `Rangers ${RUN}`, `Rangers ${RUN}`, '3.00', 1_000);

    // Every message the checkout shows, however briefly.
    await bettor.page.evaluate(() => {
      window.checkoutMessages = [];
      new MutationObserver(() => {
        for (const alert of document.querySelectorAll('.checkout [role="alert"]')) {
          if (alert.textContent) window.checkoutMessages.push(alert.textContent);
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    // The cart page reads its match afresh before it draws: held here, the
    // cart stays undrawn until it is let go.
    const reading = await holdRequests(bettor.page, `**/v1/matches/${match.id}`);
    await bettor.page.getByRole('link', { name: /Cart/ }).click();
    await reading.reached;
    const place = bettor.page.getByRole('button', { name: 'Place bets' });
    assert.equal(await place.getAttribute('aria-disabled'), 'true');
    assert.equal(await bettor.page.locator('li.cart-item').count(), 0);
    await place.click({ force: true }); // a person taps what Playwright would wait for

    reading.release();
    await bettor.page.locator('li.cart-item').waitFor();
    await bettor.page.locator('.place-bets[aria-disabled="false"]').waitFor();
    // The early tap started nothing: this one places (a checkout still
    // running from the early tap would ignore it and nothing would be placed).
    await place.click();
    await bettor.page.getByRole('heading', { name: 'Bets placed' }).waitFor();
    await bettor.page.locator('#balance', { hasText: '€7.00' }).waitFor();
    assert.equal((await api('GET', `/v1/users/${me.id}/bets`, { token: config().adminToken })).json.total, 1);
    // Not once did it claim the cart had changed.
    assert.deepEqual(await bettor.page.evaluate(() => window.checkoutMessages), []);
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('"Place bets" right after a Remove, while the cart is still redrawn, places what is left without calling the cart changed', async () => {
    const kept = await createMatch(`Wolves ${RUN}`, `Hornets ${RUN}`, { daysAhead: 10 });
    const dropped = await createMatch(`Hornets ${RUN}`, `Wolves ${RUN}`, { daysAhead: 11 });
    const { bettor, me } = await bettorWithOneSelection(browser, `Flo ${RUN}`, kept, `Wolves ${RUN}`, `Wolves ${RUN}`, '3.00', 1_000);
    await addToCart(bettor.page, dropped, `Hornets ${RUN}`, '2.00', 2);
    await bettor.page.getByRole('link', { name: /Cart/ }).click();
    await bettor.page.locator('li.cart-item').nth(1).waitFor();
    await bettor.page.locator('.place-bets[aria-disabled="false"]').waitFor();
    await bettor.page.evaluate(() => {
      window.checkoutMessages = [];
      new MutationObserver(() => {
        for (const alert of document.querySelectorAll('.checkout [role="alert"]')) {
          if (alert.textContent) window.checkoutMessages.push(alert.textContent);
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    // The redraw after the Remove reads the kept match afresh: held here, the
    // removed row stays on screen after the cart's count says 1.
    const reading = await holdRequests(bettor.page, `**/v1/matches/${kept.id}`);
    const droppedItem = bettor.page.locator('li.cart-item', { hasText: `Hornets ${RUN} v Wolves ${RUN}` });
    await droppedItem.getByRole('button', { name: /^Remove/ }).click();
    await bettor.page.locator('#cart-count', { hasText: '1' }).waitFor();
    await reading.reached;
    assert.equal(await bettor.page.locator('li.cart-item').count(), 2, 'the removed row is still drawn');
    await bettor.page.getByRole('button', { name: 'Place bets', exact: true }).click();

    reading.release();
    await bettor.page.getByRole('heading', { name: 'Bets placed' }).waitFor();
    await bettor.page.locator('#balance', { hasText: '€7.00' }).waitFor();
    const bets = (await api('GET', `/v1/users/${me.id}/bets`, { token: config().adminToken })).json;
    assert.deepEqual(bets.items.map((b) => [b.match_id, b.stake]), [[kept.id, 300]]);
    assert.deepEqual(await bettor.page.evaluate(() => window.checkoutMessages), []);
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('"Place bets" while a Remove is still on its way to the server waits for it, and places only what is left', async () => {
    const kept = await createMatch(`Stags ${RUN}`, `Geese ${RUN}`, { daysAhead: 12 });
    const dropped = await createMatch(`Geese ${RUN}`, `Stags ${RUN}`, { daysAhead: 13 });
    const { bettor, me } = await bettorWithOneSelection(browser, `Gus ${RUN}`, kept, `Stags ${RUN}`, `Stags ${RUN}`, '3.00', 1_000);
    await addToCart(bettor.page, dropped, `Geese ${RUN}`, '2.00', 2);
    await bettor.page.getByRole('link', { name: /Cart/ }).click();
    await bettor.page.locator('li.cart-item').nth(1).waitFor();
    await bettor.page.locator('.place-bets[aria-disabled="false"]').waitFor();
    const droppedItem = bettor.page.locator('li.cart-item', { hasText: `Geese ${RUN} v Stags ${RUN}` });
    const droppedId = await droppedItem.getAttribute('data-item-id');
    // The removal is held in the browser, before it reaches the server: the
    // server's cart still holds both when "Place bets" is clicked.
    const removing = await holdRequests(bettor.page, `**/v1/users/${me.id}/cart/items/${droppedId}`, { method: 'DELETE' });
    const checkouts = [];
    bettor.page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/cart/checkout')) checkouts.push(r.url());
    });
    await droppedItem.getByRole('button', { name: /^Remove/ }).click();
    await removing.reached;
    await bettor.page.getByRole('button', { name: 'Place bets', exact: true }).click();
    await bettor.page.getByRole('button', { name: 'Placing bets…', exact: true }).waitFor();
    assert.equal(checkouts.length, 0, 'no checkout before the removal is done');

    removing.release();
    await bettor.page.getByRole('heading', { name: 'Bets placed' }).waitFor();
    const bets = (await api('GET', `/v1/users/${me.id}/bets`, { token: config().adminToken })).json;
    assert.deepEqual(bets.items.map((b) => [b.match_id, b.stake]), [[kept.id, 300]]);
    assert.equal(checkouts.length, 1);
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('a match that closed meanwhile is refused with "match closed" next to it, in the matches list and in the cart', async () => {
    const first = await createMatch(`Harriers ${RUN}`, `Albion ${RUN}`, { daysAhead: 6 });
    const second = await createMatch(`Albion ${RUN}`, `Harriers ${RUN}`, { daysAhead: 8 });
    const bettor = await openPage(browser, PHONE, '/#account');
    const me = await signUp(bettor.page, `Di ${RUN}`);
    const credited = await api('POST', `/v1/users/${me.id}/deposits`, { token: config().adminToken, body: { amount: 10_000 } });
    assert.equal(credited.status, 201, credited.text);
    // Live updates held back: this page has not heard of the settlements
    // below (stream.test.mjs covers the page that has).
    await holdLiveUpdates(bettor.page);
    await showTeam(bettor.page, `Harriers ${RUN}`);
    await addToCart(bettor.page, first, `Harriers ${RUN}`, '5.00', 1);

    // The operator settles both matches while the bettor's page is open.
    for (const m of [first, second]) {
      const settled = await api('POST', `/v1/matches/${m.id}/result`, { token: config().adminToken, body: { result: 'X' } });
      assert.equal(settled.status, 200, settled.text);
    }

    // A tap on the stale odds: the message sits in that match's card.
    const card = bettor.page.locator(`li[data-match-id="${second.id}"]`);
    await card.getByRole('button', { name: /^Draw \d/ }).click();
    await card.getByRole('alert').filter({ hasText: 'closed' }).waitFor();
    assert.equal(await card.getByRole('alert').textContent(), 'This match is closed for betting.');
    await screenshot(bettor.page, '22-match-closed-phone');

    // Checking out the cart: the message sits next to the item; nothing charged.
    await bettor.page.getByRole('link', { name: /Cart/ }).click();
    await bettor.page.locator('li.cart-item').waitFor(); // drawn before the tap, as above
    await bettor.page.getByRole('button', { name: 'Place bets' }).click();
    const itemError = bettor.page.locator(`li.cart-item [role="alert"]:not([hidden])`);
    await itemError.waitFor();
    assert.equal(await itemError.textContent(), 'This match is closed for betting.');
    assert.equal(await itemError.getAttribute('data-code'), 'match_closed');
    assert.equal(await headerBalance(bettor.page), '€100.00');
    await screenshot(bettor.page, '23-cart-match-closed-phone');
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('the results in the imported file are entered as settlements, with progress; not before kick-off unless forced', async () => {
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await openOperatorTab(op.page, 'Import fixtures');
    await op.page.getByLabel('Bundled demo file').selectOption({ label: 'English Premier League 2025/26 (matchdays 1-3)' });
    await op.page.getByRole('button', { name: 'Load', exact: true }).click();
    await op.page.getByLabel(/Then enter the file’s results/).check();
    await op.page.getByRole('button', { name: 'Import 30 matches' }).click();
    // The dates were moved into the future: no result is entered for them.
    const held = op.page.getByRole('status').filter({ hasText: 'Results entered' });
    await held.waitFor({ timeout: 60_000 });
    assert.match(await held.textContent(), /^Results entered for 0 matches .*; 0 failed; 30 not settled: kick-off still in the future/);
    // Unless forced, with the separate option.
    await op.page.getByLabel(/Force: also settle matches that have NOT kicked off yet/).check();
    await op.page.getByRole('button', { name: 'Apply results from the file' }).click();
    const done = op.page.getByRole('status').filter({ hasText: /Results entered for [1-9]|already had another result; 0 failed\.$/ });
    await done.waitFor({ timeout: 60_000 });
    const [, settled, conflicting, failed] = (await done.textContent()).match(/Results entered for (\d+) matches.*; (\d+) already had another result; (\d+) failed/).map(Number);
    assert.equal(failed, 0);
    assert.equal(settled + conflicting, 30);
    assert.equal(await op.page.getByLabel('Results progress').getAttribute('value'), '30');
    await screenshot(op.page, '21-operator-import-results');
    const liverpool = await api('GET', `/v1/matches?team=${encodeURIComponent('Liverpool FC')}&status=settled&limit=100`);
    assert.ok(liverpool.json.items.some((m) => m.team_2 === 'AFC Bournemouth' && m.result === '1'), liverpool.text);
    assert.deepEqual(op.problems, []);
    await op.context.close();
  });
});
