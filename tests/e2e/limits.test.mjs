// Responsible gambling through the web UI (API.md Part 2, "Responsible
// gambling"): setting a limit (at once), raising one (pending, with the date
// it applies), a bet over the stake limit, a time-out and a self-exclusion
// each behind a confirmation step (while one runs the betting controls are
// disabled and say why, cash-out still works), and an operator's read-only
// view of a bettor's limits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DESKTOP, PHONE, RUN, api, assertFitsWidth, assertLabelled, config, createMatch, createUser, headerBalance, launch, openPage,
  operatorSignIn, screenshot, showTeam, openOperatorTab
} from './support.mjs';

const HOUR_MS = 3_600_000;
const PASSWORD = 'correct horse 1';

const emailFor = (name) => `${name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}.${RUN}@example.com`;

// An API call that must succeed; its JSON answer.
async function ok(method, path, token, body) {
  const res = await api(method, path, { token, body });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

const limitsOf = (user) => ok('GET', `/v1/users/${user.id}/limits`, user.token);
const cartOf = (user) => ok('GET', `/v1/users/${user.id}/cart`, user.token);

// Signs the bettor in on the Account page with their account number and token.
async function signInWithToken(page, user) {
  await page.goto('/#account/signin');
  await page.getByText('No password? Sign in with your account number and token').click();
  await page.getByLabel('Account number').fill(String(user.id));
  await page.getByLabel('Token', { exact: true }).fill(user.token);
  await page.getByRole('button', { name: 'Sign in with this token' }).click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  await page.locator('section.limits-card table.limits-table').waitFor();
}

// A time as the page shows it (the viewer's locale and time zone).
function shownAs(page, rfc3339) {
  return page.evaluate(
    (t) => new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(new Date(t)),
    rfc3339,
  );
}

// The limits table's cells as {"stake.day": "10.00", ...}.
async function limitCells(scope) {
  const cells = await scope.locator('table.limits-table td[data-kind]').evaluateAll((tds) => tds.map((td) => [`${td.dataset.kind}.${td.dataset.period}`, td.textContent]));
  return Object.fromEntries(cells);
}

const NO_LIMITS = { 'deposit.day': 'none', 'deposit.week': 'none', 'deposit.month': 'none', 'stake.day': 'none', 'stake.week': 'none', 'stake.month': 'none' };

// The body of the next PUT of the limits the page sends, and its answer's status.
function nextLimitsPut(page) {
  return page
    .waitForResponse((r) => r.request().method() === 'PUT' && /\/v1\/users\/\d+\/limits$/.test(new URL(r.url()).pathname))
    .then((r) => ({ body: r.request().postDataJSON(), status: r.status() }));
}

// Waits until every odds button of the match card is disabled with a title
// starting with `reason`.
async function waitOddsPaused(page, match, reason) {
  await page.waitForFunction(
    ([id, text]) => {
      const buttons = [...document.querySelectorAll(`li[data-match-id="${id}"] button.odds`)];
      return buttons.length > 0 && buttons.every((b) => b.disabled && b.title.startsWith(text));
    },
    [match.id, reason],
  );
}

describe('responsible gambling in the web UI', () => {
  let browser;
  before(async () => {
    config();
    browser = await launch();
  });
  after(async () => browser?.close());

  test('setting a limit applies at once and is shown; only the changed limit is sent; refusals are shown', async () => {
    const me = await createUser(`Lena ${RUN}`, 5_000);
    const { context, page, problems } = await openPage(browser, PHONE, '/#account');
    await signInWithToken(page, me);
    const card = page.locator('section.limits-card');
    assert.deepEqual(await limitCells(card), NO_LIMITS);
    await card.getByText('No changes waiting.').waitFor();
    assert.equal(await card.getByLabel('Stakes per day').inputValue(), '');

    // Not an amount: refused in the browser, under the field; nothing sent.
    let puts = 0;
    page.on('request', (r) => {
      if (r.method() === 'PUT') puts += 1;
    });
    await card.getByLabel('Stakes per day').fill('ten');
    await card.getByRole('button', { name: 'Save limits' }).click();
    assert.match(await card.locator('[data-field="stake.day"] ~ .field-error').textContent(), /amount such as 50\.00/);
    assert.equal(puts, 0);

    // A stake limit of 10.00 where there was none: in force at once.
    await card.getByLabel('Stakes per day').fill('10');
    const put = nextLimitsPut(page);
    await card.getByRole('button', { name: 'Save limits' }).click();
    assert.deepEqual(await put, { body: { stake: { day: 1000 } }, status: 200 });
    await card.getByRole('status').filter({ hasText: 'Saved. Stake limit per day is now €10.00.' }).waitFor();
    await card.locator('td[data-kind="stake"][data-period="day"]', { hasText: '€10.00' }).waitFor();
    assert.deepEqual(await limitCells(card), { ...NO_LIMITS, 'stake.day': '€10.00' });
    assert.equal(await card.locator('.field-error').count(), 0);
    const limits = await limitsOf(me);
    assert.deepEqual([limits.stake, limits.deposit, limits.pending], [{ day: 1000, week: null, month: null }, { day: null, week: null, month: null }, []]);
    await assertFitsWidth(page);
    await assertLabelled(page);
    await screenshot(page, '80-limit-set-phone');

    // Saving again with nothing changed sends nothing.
    await card.getByRole('button', { name: 'Save limits' }).click();
    await card.getByRole('status').filter({ hasText: 'Nothing to change' }).waitFor();
    assert.equal(puts, 1);

    // A refusal from the server goes under the field it names (stood in for:
    // the browser already refuses what the server would).
    await page.route('**/v1/users/*/limits', (route) =>
      route.request().method() === 'PUT'
        ? route.fulfill({
          status: 422,
          headers: { 'Content-Type': 'application/problem+json' },
          body: JSON.stringify({ type: 'about:blank', title: 'Validation failed', status: 422, code: 'validation_failed', errors: [{ field: 'deposit.week', message: 'must be at most 1000000000000' }] }),
        })
        : route.continue(),
    );
    await card.getByLabel('Deposits per week').fill('99');
    await card.getByRole('button', { name: 'Save limits' }).click();
    const note = card.locator('[data-field="deposit.week"] ~ .field-error');
    await note.waitFor();
    assert.equal(await note.textContent(), 'must be at most 1000000000000');
    assert.equal(await card.getByLabel('Deposits per week').getAttribute('aria-invalid'), 'true');
    assert.deepEqual(await limitCells(card), { ...NO_LIMITS, 'stake.day': '€10.00' });
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('raising or removing a limit is pending, with the date it applies; keeping the limit calls it off', async () => {
    const me = await createUser(`Milo ${RUN}`);
    await ok('PUT', `/v1/users/${me.id}/limits`, me.token, { stake: { day: 1000 }, deposit: { month: 50_000 } });
    const { context, page, problems } = await openPage(browser, PHONE, '/#account');
    await signInWithToken(page, me);
    const card = page.locator('section.limits-card');
    assert.equal(await card.getByLabel('Stakes per day').inputValue(), '10.00');
    assert.equal(await card.getByLabel('Deposits per month').inputValue(), '500.00');

    // Raise the stake limit, remove the deposit limit: both wait 24 hours.
    const before = Date.now();
    await card.getByLabel('Stakes per day').fill('20.00');
    await card.getByLabel('Deposits per month').fill('');
    const put = nextLimitsPut(page);
    await card.getByRole('button', { name: 'Save limits' }).click();
    assert.deepEqual(await put, { body: { deposit: { month: null }, stake: { day: 2000 } }, status: 200 });
    const saved = card.getByRole('status').filter({ hasText: 'Saved.' });
    await saved.waitFor();
    const limits = await limitsOf(me);
    assert.equal(limits.stake.day, 1000, 'a raise is not in force yet');
    assert.equal(limits.deposit.month, 50_000, 'a removal is not in force yet');
    assert.deepEqual(limits.pending.map((p) => [p.kind, p.period, p.amount]).sort(), [['deposit', 'month', null], ['stake', 'day', 2000]]);
    for (const p of limits.pending) {
      const at = Date.parse(p.effective_at);
      assert.ok(at >= before + 24 * HOUR_MS - 60_000 && at <= Date.now() + 24 * HOUR_MS + 60_000, p.effective_at);
    }
    const stakeAt = limits.pending.find((p) => p.kind === 'stake').effective_at;
    const depositAt = limits.pending.find((p) => p.kind === 'deposit').effective_at;
    assert.equal(
      await saved.textContent(),
      `Saved. Deposit limit per month will be removed on ${await shownAs(page, depositAt)}. Stake limit per day will be €20.00 from ${await shownAs(page, stakeAt)}. Raising or removing a limit takes effect after 24 hours.`,
    );

    // The table still shows the limits in force; the list shows what waits and when.
    assert.deepEqual(await limitCells(card), { ...NO_LIMITS, 'stake.day': '€10.00', 'deposit.month': '€500.00' });
    const pendingStake = card.locator('.pending-limits li[data-kind="stake"][data-period="day"]');
    await pendingStake.waitFor();
    assert.equal(await pendingStake.locator('.pending-text').textContent(), `Stakes per day: €20.00 from ${await shownAs(page, stakeAt)}`);
    assert.equal(await pendingStake.locator('time').getAttribute('datetime'), stakeAt);
    const pendingDeposit = card.locator('.pending-limits li[data-kind="deposit"][data-period="month"]');
    assert.equal(await pendingDeposit.locator('.pending-text').textContent(), `Deposits per month: no limit from ${await shownAs(page, depositAt)}`);
    // The form shows what was asked for.
    assert.equal(await card.getByLabel('Stakes per day').inputValue(), '20.00');
    assert.equal(await card.getByLabel('Deposits per month').inputValue(), '');
    await assertFitsWidth(page);
    await assertLabelled(page);
    await screenshot(page, '81-limit-raise-pending-phone');

    // After a reload, read from the server: the same.
    await page.reload();
    await pendingStake.waitFor();
    assert.equal(await card.locator('.pending-limits li').count(), 2);

    // "Keep 10.00" calls the raise off: the current limit is sent again.
    const keep = nextLimitsPut(page);
    await pendingStake.getByRole('button', { name: 'Keep the stake limit per day at €10.00' }).click();
    assert.deepEqual(await keep, { body: { stake: { day: 1000 } }, status: 200 });
    await pendingStake.waitFor({ state: 'detached' });
    assert.equal(await card.locator('.pending-limits li').count(), 1);
    assert.equal(await card.getByLabel('Stakes per day').inputValue(), '10.00');
    assert.deepEqual((await limitsOf(me)).pending.map((p) => [p.kind, p.period]), [['deposit', 'month']]);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a bet over the stake limit is refused with stake_limit_exceeded, a deposit over the deposit limit likewise; exactly reaching either is allowed', async () => {
    const team = `Lynxes ${RUN}`;
    const a = await createMatch(team, `Pumas ${RUN}`, { daysAhead: 3 });
    const b = await createMatch(`Ocelots ${RUN}`, team, { daysAhead: 4 });
    const me = await createUser(`Nora ${RUN}`, 10_000);
    await ok('PUT', `/v1/users/${me.id}/limits`, me.token, { stake: { day: 1000 }, deposit: { day: 15_000 } });
    const { context, page, problems } = await openPage(browser, PHONE, '/#account');
    await signInWithToken(page, me);

    await showTeam(page, team);
    await page.getByLabel('Stake per selection').fill('15.00');
    await page.locator(`li[data-match-id="${a.id}"]`).getByRole('button', { name: new RegExp(`^${team} \\d`) }).click();
    await page.locator('#cart-count', { hasText: '1' }).waitFor();
    await page.getByRole('link', { name: /Cart/ }).click();
    const item = page.locator('li.cart-item').first();
    await item.getByRole('button', { name: /^Bet now/ }).click();
    const refused = item.locator('[role="alert"][data-code="stake_limit_exceeded"]');
    await refused.waitFor();
    assert.match(await refused.textContent(), /over one of your stake limits\. Nothing was placed\./);
    assert.equal(await headerBalance(page), '€100.00');
    assert.equal((await ok('GET', `/v1/users/${me.id}/bets`, me.token)).total, 0);
    await screenshot(page, '82-stake-limit-exceeded-phone');

    // 10.00 reaches the limit exactly: placed.
    await item.getByLabel(/Stake/).fill('10.00');
    await item.getByRole('button', { name: 'Update stake' }).click();
    await page.getByRole('status').filter({ hasText: 'is now €10.00' }).waitFor();
    await page.locator('li.cart-item').first().getByRole('button', { name: /^Bet now/ }).click();
    await page.getByRole('status').filter({ hasText: /^Placed / }).waitFor();
    await page.locator('#balance', { hasText: '90.00' }).waitFor();

    // Anything more today is over it: a checkout is refused too, the cart kept.
    await showTeam(page, team);
    await page.getByLabel('Stake per selection').fill('1.00');
    await page.locator(`li[data-match-id="${b.id}"]`).getByRole('button', { name: /^Draw \d/ }).click();
    await page.locator('#cart-count', { hasText: '1' }).waitFor();
    await page.getByRole('link', { name: /Cart/ }).click();
    await page.locator('li.cart-item').first().waitFor();
    await page.getByRole('button', { name: 'Place bets' }).click();
    await page.locator('.checkout [role="alert"][data-code="stake_limit_exceeded"]').waitFor();
    assert.equal((await cartOf(me)).items.length, 1);
    assert.equal((await ok('GET', `/v1/users/${me.id}/bets`, me.token)).total, 1);
    assert.equal(await headerBalance(page), '€90.00');

    // The operator's deposit: 100.00 already today, the limit 150.00.
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await openOperatorTab(op.page, 'Accounts');
    const credit = op.page.locator('form:has(#credit-heading)');
    await credit.getByLabel('Account number').fill(String(me.id));
    await credit.getByLabel('Amount').fill('50.01');
    await credit.getByRole('button', { name: 'Credit' }).click();
    const over = credit.locator('[role="alert"][data-code="deposit_limit_exceeded"]');
    await over.waitFor();
    assert.equal(await over.textContent(), 'This deposit would take the account over one of its deposit limits. Nothing was credited.');
    await credit.getByLabel('Amount').fill('50.00');
    await credit.getByRole('button', { name: 'Credit' }).click();
    await credit.getByText(`Credited 50.00 to account #${me.id}. Balance is now 140.00.`).waitFor();
    assert.deepEqual(op.problems, []);
    await op.context.close();
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a time-out needs a second confirmation; then betting controls are disabled and say why, and cash-out still works', async () => {
    const team = `Falcons ${RUN}`;
    const match = await createMatch(team, `Kestrels ${RUN}`, { daysAhead: 3, odds: { 1: 2.0, X: 3.2, 2: 3.5 } });
    const me = await createUser(`Oskar ${RUN}`, 10_000);
    const bet = await ok('POST', '/v1/bets', me.token, { user_id: me.id, match_id: match.id, selection: '1', stake: 1000 });
    await ok('POST', `/v1/users/${me.id}/cart/items`, me.token, { match_id: match.id, selection: 'X', stake: 500 });
    const { context, page, problems } = await openPage(browser, PHONE, '/#account');
    await signInWithToken(page, me);
    await page.locator('#cart-count', { hasText: '1' }).waitFor();
    const breaks = page.locator('section.break-card');
    await breaks.getByText('No time-out or self-exclusion is running.').waitFor();

    // Cancelled at the confirmation: nothing changes.
    await breaks.getByLabel('7 days').check();
    let t0 = Date.now();
    await breaks.getByRole('button', { name: 'Start time-out' }).click();
    let dialog = page.getByRole('alertdialog', { name: 'Start a 7-day time-out?' });
    await dialog.waitFor();
    let t1 = Date.now();
    const ends = await Promise.all([t0, t1].map((t) => shownAs(page, new Date(t + 168 * HOUR_MS).toISOString())));
    assert.ok(ends.includes(await dialog.locator('.confirm-end').textContent()), `${await dialog.locator('.confirm-end').textContent()} not in ${ends}`);
    assert.match(await dialog.textContent(), /cannot be undone or shortened/);
    await screenshot(page, '83-timeout-confirm-phone');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await breaks.getByRole('status').filter({ hasText: 'No time-out was started.' }).waitFor();
    assert.equal((await limitsOf(me)).timeout_until, null);
    assert.equal((await cartOf(me)).items.length, 1);
    assert.equal(await page.locator('#pause-banner').isHidden(), true);

    // Confirmed: the time-out runs, the cart is emptied, the banner says until when.
    t0 = Date.now();
    await breaks.getByRole('button', { name: 'Start time-out' }).click();
    dialog = page.getByRole('alertdialog', { name: 'Start a 7-day time-out?' });
    await dialog.getByRole('button', { name: 'Yes, start my time-out' }).click();
    await breaks.getByRole('status').filter({ hasText: 'Your time-out has started.' }).waitFor();
    t1 = Date.now();
    const until = (await limitsOf(me)).timeout_until;
    assert.ok(Date.parse(until) >= t0 + 168 * HOUR_MS - 60_000 && Date.parse(until) <= t1 + 168 * HOUR_MS + 60_000, until);
    const reason = `Time-out until ${await shownAs(page, until)}: betting is paused.`;
    const banner = page.locator('#pause-banner');
    await banner.locator('.pause-text', { hasText: reason }).waitFor();
    await breaks.locator('.break-now', { hasText: 'You are on a time-out until' }).waitFor();
    assert.equal((await cartOf(me)).items.length, 0);
    await page.locator('#cart-count').waitFor({ state: 'hidden' });
    await assertFitsWidth(page);
    await screenshot(page, '84-timeout-running-phone');

    // A shorter one cannot replace it: said at once, without asking.
    await breaks.getByLabel('24 hours').check();
    await breaks.getByRole('button', { name: 'Start time-out' }).click();
    await breaks.locator('.timeout-form [role="alert"]', { hasText: `Your time-out already runs until ${await shownAs(page, until)}. A new one must end later than that; it cannot be shortened.` }).waitFor();
    assert.equal(await page.getByRole('alertdialog').count(), 0);
    assert.equal((await limitsOf(me)).timeout_until, until);

    // The matches page: every odds button disabled, saying why.
    await showTeam(page, team);
    await waitOddsPaused(page, match, reason);
    assert.equal(await banner.isVisible(), true);
    await assertFitsWidth(page);
    await screenshot(page, '85-timeout-matches-phone');
    // (The server refuses it anyway.)
    const add = await api('POST', `/v1/users/${me.id}/cart/items`, { token: me.token, body: { match_id: match.id, selection: '2', stake: 100 } });
    assert.equal(add.status, 403, add.text);
    assert.equal(add.json.code, 'self_excluded');

    // The cart: checkout, emptying and the accumulator disabled, saying why.
    await page.getByRole('link', { name: /Cart/ }).click();
    const placeBets = page.getByRole('button', { name: 'Place bets' });
    await placeBets.waitFor();
    await page.waitForFunction((text) => [...document.querySelectorAll('.checkout button')].every((b) => b.disabled && b.title === text), reason);
    await page.getByRole('radio', { name: /^Accumulator/ }).check();
    const placeAcca = page.getByRole('button', { name: 'Place accumulator' });
    await placeAcca.waitFor();
    assert.equal(await placeAcca.isDisabled(), true);
    assert.equal(await placeAcca.getAttribute('title'), reason);

    // Cash-out stays open: it closes a position.
    await page.goto('/#bets');
    const row = page.locator(`tr[data-bet-id="${bet.id}"]`);
    await row.getByRole('button', { name: /^Cash out/ }).click();
    await row.locator('.cash-out-amount').waitFor();
    await row.getByRole('button', { name: /^Accept / }).click();
    await page.getByRole('status').filter({ hasText: `Cashed out bet #${bet.id}` }).waitFor();
    await page.locator(`tr[data-bet-id="${bet.id}"][data-status="cashed_out"]`).waitFor();
    assert.equal(await banner.isVisible(), true);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a self-exclusion needs a second confirmation; then betting stays paused, across reloads, and deposits are refused', async () => {
    const team = `Badgers ${RUN}`;
    const match = await createMatch(team, `Weasels ${RUN}`, { daysAhead: 3 });
    const me = await createUser(`Pia ${RUN}`, 10_000);
    const { context, page, problems } = await openPage(browser, PHONE, '/#account');
    await signInWithToken(page, me);
    const breaks = page.locator('section.break-card');
    await breaks.getByText('No time-out or self-exclusion is running.').waitFor();

    // Escape at the confirmation: nothing changes.
    await breaks.getByLabel('1 year').check();
    await breaks.getByRole('button', { name: 'Self-exclude' }).click();
    let dialog = page.getByRole('alertdialog', { name: 'Self-exclude for 1 year?' });
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /You are excluded from betting until .+\..*cannot be undone or shortened/s);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await breaks.getByRole('status').filter({ hasText: 'No self-exclusion was started.' }).waitFor();
    assert.equal((await limitsOf(me)).self_excluded_until, null);

    // Confirmed.
    const t0 = Date.now();
    await breaks.getByRole('button', { name: 'Self-exclude' }).click();
    dialog = page.getByRole('alertdialog', { name: 'Self-exclude for 1 year?' });
    await dialog.getByRole('button', { name: 'Yes, self-exclude me' }).click();
    await breaks.getByRole('status').filter({ hasText: 'Your self-exclusion has started.' }).waitFor();
    const until = (await limitsOf(me)).self_excluded_until;
    const year = Date.parse(until) - t0;
    assert.ok(year >= 365 * 24 * HOUR_MS - 60_000 && year <= 366 * 24 * HOUR_MS + 60_000, until);
    const reason = `Self-excluded until ${await shownAs(page, until)}: betting is paused.`;
    await page.locator('#pause-banner .pause-text', { hasText: reason }).waitFor();
    await breaks.locator('.break-now', { hasText: 'You are self-excluded until' }).waitFor();
    await screenshot(page, '86-self-excluded-phone');

    // A fresh load knows it from the server.
    await showTeam(page, team);
    await page.reload();
    await page.locator('#pause-banner .pause-text', { hasText: reason }).waitFor();
    await page.getByRole('button', { name: 'Search', exact: true }).waitFor();
    await page.getByLabel('Search matches').fill(team);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await waitOddsPaused(page, match, reason);

    // The operator's deposit for this bettor is refused, and says why.
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await openOperatorTab(op.page, 'Accounts');
    const credit = op.page.locator('form:has(#credit-heading)');
    await credit.getByLabel('Account number').fill(String(me.id));
    await credit.getByLabel('Amount').fill('50');
    await credit.getByRole('button', { name: 'Credit' }).click();
    const refused = credit.locator('[role="alert"][data-code="self_excluded"]');
    await refused.waitFor();
    assert.equal(await refused.textContent(), `This account is self-excluded or on a time-out until ${await shownAs(op.page, until)}: it takes no deposits or bets until then.`);
    assert.equal((await ok('GET', `/v1/users/${me.id}`, me.token)).balance, 10_000);
    assert.equal(await op.page.locator('#pause-banner').isHidden(), true);
    assert.deepEqual(problems, []);
    assert.deepEqual(op.problems, []);
    await op.context.close();
    await context.close();
  });

  test('a pause started elsewhere: the first refused click says until when, and the page catches up', async () => {
    const team = `Voles ${RUN}`;
    const match = await createMatch(team, `Shrews ${RUN}`, { daysAhead: 3 });
    const me = await createUser(`Rosa ${RUN}`, 10_000);
    const { context, page, problems } = await openPage(browser, PHONE, '/#account');
    await signInWithToken(page, me);
    await showTeam(page, team);
    const card = page.locator(`li[data-match-id="${match.id}"]`);
    await card.waitFor();

    // Another device starts a time-out; this page does not know yet.
    const { timeout_until: until } = await ok('POST', `/v1/users/${me.id}/timeout`, me.token, { hours: 48 });
    await card.getByRole('button', { name: /^Draw \d/ }).click();
    const refused = card.locator('[role="alert"][data-code="self_excluded"]');
    await refused.waitFor();
    assert.equal(await refused.textContent(), `Betting is paused on your account until ${await shownAs(page, until)} (your self-exclusion or time-out). Nothing was changed.`);
    const reason = `Time-out until ${await shownAs(page, until)}: betting is paused.`;
    await page.locator('#pause-banner .pause-text', { hasText: reason }).waitFor();
    await waitOddsPaused(page, match, reason);
    assert.equal((await cartOf(me)).items.length, 0);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('operators (support and the owner) see a bettor\'s limits, pending changes and time-out, read-only', async () => {
    const me = await createUser(`Quinn ${RUN}`);
    await ok('PUT', `/v1/users/${me.id}/limits`, me.token, { stake: { day: 1000 }, deposit: { week: 50_000 } });
    const raised = await ok('PUT', `/v1/users/${me.id}/limits`, me.token, { stake: { day: 2000 } });
    const effectiveAt = raised.pending[0].effective_at;
    const { timeout_until: until } = await ok('POST', `/v1/users/${me.id}/timeout`, me.token, { hours: 24 });
    const support = await ok('POST', '/v1/operators', config().adminToken, { email: emailFor(`Limits Support ${RUN}`), password: PASSWORD, role: 'support' });

    for (const who of ['support', 'owner']) {
      const op = await openPage(browser, DESKTOP, '/#operator');
      if (who === 'owner') {
        await operatorSignIn(op.page);
      } else {
        const form = op.page.locator('form.signin-form');
        await form.getByLabel('Email').fill(support.email);
        await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
        await form.getByRole('button', { name: 'Sign in', exact: true }).click();
        await op.page.getByRole('navigation', { name: 'Operator' }).waitFor();
      }
      await openOperatorTab(op.page, 'Accounts');
      const lookup = op.page.locator('form:has(#lookup-heading)');
      await lookup.getByLabel('Account number').fill(String(me.id));
      await lookup.getByRole('button', { name: 'Look up' }).click();
      const section = op.page.locator('section.operator-limits');
      await section.getByRole('heading', { name: 'Limits and breaks' }).waitFor();
      assert.deepEqual(await limitCells(section), { ...NO_LIMITS, 'stake.day': '€10.00', 'deposit.week': '€500.00' });
      const pending = section.locator('.pending-limits li');
      assert.equal(await pending.count(), 1);
      assert.equal(await pending.textContent(), `Stakes per day: €20.00 from ${await shownAs(op.page, effectiveAt)}`);
      assert.equal(await section.locator('dd.timeout-until').textContent(), `until ${await shownAs(op.page, until)}`);
      assert.equal(await section.locator('dd.self-excluded-until').textContent(), 'none');
      // Read-only: nothing to change them with.
      assert.equal(await section.locator('input, button, select, textarea').count(), 0, who);
      assert.equal(await op.page.locator('#pause-banner').isHidden(), true);
      await op.page.getByRole('heading', { name: /^Latest bets/ }).waitFor();
      await assertLabelled(op.page);
      await screenshot(op.page, `87-operator-limits-${who}`);
      assert.deepEqual(op.problems, [], who);
      await op.context.close();
    }
  });
});
