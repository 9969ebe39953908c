// Accumulators and cash-out through the web UI (API.md Part 2, "Accumulators"
// and "Cash-out"): the bet slip's accumulator with its exact combined odds and
// payout, placing it, its legs and their states in "My bets", and the "Cash
// out" button with its offer, countdown, acceptance and refusals.
// The cash-out amounts assume the server's margin is BETSDB_TEST_CASH_OUT_MARGIN
// (default 0.05, the server's default).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  DESKTOP, PHONE, RUN, api, assertFitsWidth, assertLabelled, config, createMatch, headerBalance, holdRequests, launch, openPage, screenshot,
  showTeam, signUp,
} from './support.mjs';

// The margin in ten-thousandths (at most 4 decimals), so amounts stay integers.
const MARGIN = Math.round(Number(process.env.BETSDB_TEST_CASH_OUT_MARGIN ?? '0.05') * 10_000);
const QUOTE_LIFETIME_MS = 10_000;

// floor(value x (1 - margin)) for an integer value of cents.
const lessMargin = (cents) => Math.floor((cents * (10_000 - MARGIN)) / 10_000);
// Money as the pages show it: "€1,234.50".
const money = (cents) => `€${Math.trunc(cents / 100).toLocaleString('en-GB')}.${String(cents % 100).padStart(2, '0')}`;

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

// A bet placed through the API with the bettor's token (the token is in the
// page's localStorage after signing up in the UI).
async function placeBet(page, body) {
  const { token } = await page.evaluate(() => JSON.parse(localStorage.getItem('betsdb.user')));
  const res = await api('POST', '/v1/bets', { token, body });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

// Adds a selection from the matches page with the given stake; returns when
// the cart badge shows `count` items.
async function addToCart(page, match, selectionName, stake, count) {
  await page.getByLabel('Stake per selection').fill(stake);
  await page.locator(`li[data-match-id="${match.id}"]`).getByRole('button', { name: new RegExp(`^${selectionName} \\d`) }).click();
  await page.locator('#cart-count', { hasText: String(count) }).waitFor();
}

// The requests the page sends: {body, headers} of each POST whose path matches.
function recordPosts(page, path) {
  const sent = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && path.test(new URL(r.url()).pathname)) sent.push({ body: r.postDataJSON(), headers: r.headers() });
  });
  return sent;
}

// The JSON answer of the next POST to `path` (a string the URL ends with).
function nextAnswer(page, path) {
  return page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith(path)).then((r) => r.json());
}

async function openSlip(page) {
  await page.getByRole('link', { name: /Cart/ }).click();
  await page.getByRole('heading', { name: 'Your cart' }).waitFor();
}

// The "My bets" page, read afresh, with the row of bet `id` shown.
async function myBets(page, id) {
  if (new URL(page.url()).hash === '#bets') await page.reload();
  else await page.goto('/#bets');
  const row = page.locator(`tr[data-bet-id="${id}"]`);
  await row.waitFor();
  return row;
}

const legStates = (row) => row.locator('li.leg').evaluateAll((lis) => lis.map((li) => li.dataset.status));

describe('accumulators and cash-out in the web UI', () => {
  let browser;
  before(async () => {
    config();
    browser = await launch();
  });
  after(async () => browser?.close());

  test('the slip\'s accumulator maths is exact: odds rounded down, payout floor(stake x product) without floats', async () => {
    const { context, page, problems } = await openPage(browser, DESKTOP);
    const out = await page.evaluate(async () => {
      const acca = await import('/js/acca.js');
      return {
        odds: [acca.formatCombinedOdds([2, 3.5, 1.25]), acca.formatCombinedOdds(Array(10).fill(1.01)), acca.formatCombinedOdds([2, 1.15, 1.15]), acca.formatCombinedOdds(Array(10).fill(1000))],
        payouts: [
          acca.accaPayout(1000, [2, 3.5, 1.25]).toString(),
          acca.accaPayout(100_000_000, Array(10).fill(1.01)).toString(),
          acca.accaPayout(1000, [2, 1.15, 1.15]).toString(),
          acca.accaPayout(100_000_000, Array(10).fill(1000)).toString(),
        ],
        money: [acca.formatBigMoney(8750n), acca.formatBigMoney(5n), acca.formatBigMoney(acca.MAX_PAYOUT)],
        problems: [
          acca.legProblems([{ match_id: 1, odds: 2 }], () => 'A'),
          acca.legProblems([{ match_id: 1, odds: 2 }, { match_id: 1, odds: 3 }], () => 'A v B'),
          acca.legProblems([{ match_id: 1, odds: 2 }, { match_id: 2, odds: null }], () => 'C v D'),
          acca.legProblems([{ match_id: 1, odds: 2 }, { match_id: 2, odds: 3 }], () => ''),
        ],
      };
    });
    // The contract's examples; 2.00 x 1.15 x 1.15 = 2.645 (a float product
    // gives 2644.9999999999995 on a stake of 1000).
    assert.deepEqual(out.odds, ['8.75', '1.10', '2.64', `${10n ** 30n}.00`]);
    assert.deepEqual(out.payouts, ['8750', '110462212', '2645', String(10n ** 38n)]);
    assert.deepEqual(out.money, ['87.50', '0.05', '100000000000.00']);
    assert.equal(out.problems[0].length, 1);
    assert.match(out.problems[0][0], /at least 2/);
    assert.match(out.problems[1][0], /one selection per match: A v B has 2/);
    assert.match(out.problems[2][0], /C v D: this selection is no longer offered/);
    assert.deepEqual(out.problems[3], []);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a bettor builds a 3-leg accumulator in the slip, places it, and sees its legs and their states in My bets', async () => {
    const team = `Lynx ${RUN}`;
    const m1 = await createMatch(team, `Bears ${RUN}`, { daysAhead: 3, odds: { 1: 2.0, X: 3.4, 2: 3.6 } });
    const m2 = await createMatch(`Wolves ${RUN}`, team, { daysAhead: 4, odds: { 1: 1.15, X: 4.0, 2: 6.0 } });
    const m3 = await createMatch(team, `Elks ${RUN}`, { daysAhead: 5, odds: { 1: 1.15, X: 5.0, 2: 9.0 } });
    const bettor = await openPage(browser, PHONE, '/#account');
    const me = await signUp(bettor.page, `Ada ${RUN}`);
    await credit(me.id, 10_000);
    const posts = recordPosts(bettor.page, /^\/v1\/bets$/);

    // One selection is not an accumulator: the slip says so and cannot place it.
    await showTeam(bettor.page, team);
    await addToCart(bettor.page, m1, team, '1.00', 1);
    await openSlip(bettor.page);
    await bettor.page.getByRole('radio', { name: 'Accumulator' }).check();
    const slip = bettor.page.getByRole('region', { name: 'Accumulator' });
    await slip.waitFor();
    const place = slip.getByRole('button', { name: 'Place accumulator' });
    assert.match(await slip.locator('.acca-problems').textContent(), /Pick at least 2 selections/);
    assert.equal(await place.isDisabled(), true);
    assert.equal(await slip.locator('.acca-odds').textContent(), '–');
    // The singles' checkout is out of the way; each item has no stake of its own.
    assert.equal(await bettor.page.getByRole('button', { name: 'Place bets', exact: true }).count(), 0);
    assert.equal(await bettor.page.locator('li.cart-item .stake-edit:visible').count(), 0);

    // Two selections on one match cannot both be legs.
    await showTeam(bettor.page, team);
    await addToCart(bettor.page, m2, `Wolves ${RUN}`, '1.00', 2);
    await addToCart(bettor.page, m2, 'Draw', '1.00', 3);
    await openSlip(bettor.page);
    assert.equal(await bettor.page.getByRole('radio', { name: 'Accumulator' }).isChecked(), true, 'the slip remembers the accumulator');
    await slip.locator('.acca-problems', { hasText: 'one selection per match' }).waitFor();
    assert.equal(await place.isDisabled(), true);
    await bettor.page.locator('li.cart-item', { hasText: 'Draw (X) at' }).getByRole('button', { name: /^Remove/ }).click();
    await bettor.page.locator('#cart-count', { hasText: '2' }).waitFor();
    await slip.locator('.acca-count', { hasText: '2 legs' }).waitFor();
    assert.equal(await slip.locator('.acca-problems').textContent(), '');
    assert.equal(await slip.locator('.acca-odds').textContent(), '2.30');

    // Three legs: 2.00 x 1.15 x 1.15 = 2.645, shown rounded down; the payout
    // on 10.00 is exactly 26.45 (floating point would say 26.44).
    await showTeam(bettor.page, team);
    await addToCart(bettor.page, m3, team, '1.00', 3);
    await openSlip(bettor.page);
    await slip.locator('.acca-count', { hasText: '3 legs' }).waitFor();
    const stake = slip.getByLabel('Accumulator stake');
    const payout = slip.locator('.acca-payout');
    await stake.fill('10.00');
    assert.equal(await slip.locator('.acca-odds').textContent(), '2.64');
    assert.equal(await payout.textContent(), '€26.45');
    // The figures follow the stake as it is typed.
    await stake.fill('0.50');
    assert.equal(await payout.textContent(), '€1.32'); // floor(50 x 2.645) = 132
    await stake.fill('3,33');
    assert.equal(await payout.textContent(), '€8.80'); // floor(333 x 2.645) = 880
    await stake.fill('lots');
    assert.equal(await payout.textContent(), '–');
    await place.click();
    assert.match(await slip.locator('.field-error').textContent(), /Enter a stake/);
    assert.deepEqual(posts, [], 'nothing sent for a stake that is not an amount');
    await stake.fill('10.00');
    assert.equal(await payout.textContent(), '€26.45');
    assert.equal(await slip.locator('.acca-balance').textContent(), '€100.00');
    await assertFitsWidth(bettor.page);
    await assertLabelled(bettor.page);
    await screenshot(bettor.page, '40-accumulator-slip-phone');

    await place.click();
    await bettor.page.getByRole('heading', { name: 'Accumulator placed' }).waitFor();
    assert.equal(
      await bettor.page.getByRole('status').filter({ hasText: 'Placed' }).textContent(),
      'Placed an accumulator of 3 at 2.64, stake €10.00, potential payout €26.45.',
    );
    assert.equal(await bettor.page.locator('.receipt li.acca-receipt li').count(), 3);
    assert.equal(posts.length, 1);
    assert.deepEqual(posts[0].body, {
      user_id: me.id,
      legs: [
        { match_id: m1.id, selection: '1', odds: 2 },
        { match_id: m2.id, selection: '1', odds: 1.15 },
        { match_id: m3.id, selection: '1', odds: 1.15 },
      ],
      stake: 1000,
      accept_price_change: 'none',
    });
    assert.match(posts[0].headers['idempotency-key'] ?? '', /^[0-9a-f]{32}$/);
    const [bet] = await betsOf(me.id);
    assert.equal(bet.type, 'accumulator');
    assert.equal(bet.odds, 2.64);
    assert.equal(bet.potential_payout, 2645);
    assert.equal(bet.match_id, null);
    assert.deepEqual(bet.legs.map((l) => [l.match_id, l.selection, l.odds, l.status]), [
      [m1.id, '1', 2, 'pending'],
      [m2.id, '1', 1.15, 'pending'],
      [m3.id, '1', 1.15, 'pending'],
    ]);
    // The legs left the cart; the stake left the balance.
    await bettor.page.locator('#cart-count').waitFor({ state: 'hidden' });
    await bettor.page.locator('#balance', { hasText: '90.00' }).waitFor();
    await screenshot(bettor.page, '41-accumulator-placed-phone');

    // My bets: the accumulator with its three legs, all pending.
    await bettor.page.getByRole('link', { name: 'See my bets' }).click();
    let row = bettor.page.locator(`tr[data-bet-id="${bet.id}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute('data-type'), 'accumulator');
    assert.deepEqual(await legStates(row), ['pending', 'pending', 'pending']);
    assert.deepEqual(await row.locator('li.leg .leg-match').allTextContents(), [`${team} v Bears ${RUN}`, `Wolves ${RUN} v ${team}`, `${team} v Elks ${RUN}`]);
    assert.deepEqual(await row.locator('li.leg .leg-odds').allTextContents(), ['2.00', '1.15', '1.15']);
    assert.equal(await row.locator('td[data-label="Odds"]').textContent(), '2.64');
    assert.equal(await row.locator('td[data-label="Payout"]').textContent(), '€26.45 if it wins');
    assert.equal(await row.getByRole('button', { name: /^Cash out/ }).count(), 1);
    await assertFitsWidth(bettor.page);
    await assertLabelled(bettor.page);
    await screenshot(bettor.page, '42-my-bets-accumulator-phone');

    // The Wolves win is lost: the bet is lost at once, the other legs wait.
    const settled = await admin('POST', `/v1/matches/${m2.id}/result`, { result: 'X' });
    assert.equal(settled.settled.lost, 1, JSON.stringify(settled));
    row = await myBets(bettor.page, bet.id);
    assert.equal(await row.getAttribute('data-status'), 'lost');
    assert.deepEqual(await legStates(row), ['pending', 'lost', 'pending']);
    assert.equal(await row.locator('td[data-label="Status"] .tag').textContent(), 'lost');
    assert.equal(await row.locator('td[data-label="Payout"]').textContent(), '€0.00');
    assert.equal(await row.getByRole('button', { name: /^Cash out/ }).count(), 0);
    // A later leg still takes its own state; the bet stays lost.
    await admin('POST', `/v1/matches/${m1.id}/result`, { result: '1' });
    row = await myBets(bettor.page, bet.id);
    await row.locator('li.leg[data-status="won"]').waitFor();
    assert.deepEqual(await legStates(row), ['won', 'lost', 'pending']);
    assert.equal(await row.getAttribute('data-status'), 'lost');
    assert.equal(await headerBalance(bettor.page), '€90.00');
    // The status filter finds it among the lost bets.
    await bettor.page.getByLabel('Status').selectOption('lost');
    await bettor.page.waitForFunction((id) => [...document.querySelectorAll('tbody tr')].map((tr) => tr.dataset.betId).join() === String(id), bet.id);
    await screenshot(bettor.page, '43-my-bets-accumulator-lost-phone');
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('"Place accumulator" right after a Remove, before the slip shows it, places nothing and says so; the next click places the legs left', async () => {
    const team = `Ibex ${RUN}`;
    const m1 = await createMatch(team, `Moles ${RUN}`, { daysAhead: 3, odds: { 1: 2.0, X: 3.4, 2: 3.6 } });
    const m2 = await createMatch(`Voles ${RUN}`, team, { daysAhead: 4, odds: { 1: 1.5, X: 4.0, 2: 6.0 } });
    const m3 = await createMatch(team, `Shrews ${RUN}`, { daysAhead: 5, odds: { 1: 1.2, X: 5.0, 2: 9.0 } });
    const bettor = await openPage(browser, PHONE, '/#account');
    const me = await signUp(bettor.page, `Ivo ${RUN}`);
    await credit(me.id, 10_000);
    await showTeam(bettor.page, team);
    await addToCart(bettor.page, m1, team, '1.00', 1);
    await addToCart(bettor.page, m2, `Voles ${RUN}`, '1.00', 2);
    await addToCart(bettor.page, m3, team, '1.00', 3);
    await openSlip(bettor.page);
    await bettor.page.getByRole('radio', { name: 'Accumulator' }).check();
    const slip = bettor.page.getByRole('region', { name: 'Accumulator' });
    await slip.locator('.acca-count', { hasText: '3 legs' }).waitFor();

    // The redraw after the Remove reads the matches left afresh: held here,
    // the slip still shows three legs after the cart's count says 2.
    const reading = await holdRequests(bettor.page, `**/v1/matches/${m1.id}`);
    await bettor.page.locator('li.cart-item', { hasText: `Shrews ${RUN}` }).getByRole('button', { name: /^Remove/ }).click();
    await bettor.page.locator('#cart-count', { hasText: '2' }).waitFor();
    await reading.reached;
    assert.equal(await slip.locator('.acca-count').textContent(), '3 legs', 'the slip is not redrawn yet');
    await slip.getByRole('button', { name: 'Place accumulator' }).click();
    reading.release();
    await slip.getByRole('alert').filter({ hasText: 'changed meanwhile' }).waitFor();
    assert.equal(
      await slip.getByRole('alert').filter({ hasText: 'changed meanwhile' }).textContent(),
      'Nothing was placed: your selections changed meanwhile. Check the accumulator, then place again.',
    );
    assert.equal((await betsOf(me.id)).length, 0, 'nothing placed with the leg removed');
    await slip.locator('.acca-count', { hasText: '2 legs' }).waitFor();
    assert.equal(await slip.locator('.acca-odds').textContent(), '3.00');

    await slip.getByRole('button', { name: 'Place accumulator' }).click();
    await bettor.page.getByRole('heading', { name: 'Accumulator placed' }).waitFor();
    const bets = await betsOf(me.id);
    assert.equal(bets.length, 1);
    assert.deepEqual(bets[0].legs.map((l) => l.match_id).sort((a, b) => a - b), [m1.id, m2.id].sort((a, b) => a - b));
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('the slip shows an accumulator\'s refusals: a leg\'s maximum stake, a moved price (asked about), a duplicate', async () => {
    const team = `Moles ${RUN}`;
    const capped = await createMatch(team, `Voles ${RUN}`, { daysAhead: 3, odds: { 1: 2.5, X: 3.0, 2: 2.8 }, limits: { max_stake: 500 } });
    const other = await createMatch(`Shrews ${RUN}`, team, { daysAhead: 4, odds: { 1: 1.8, X: 3.4, 2: 4.0 } });
    const bettor = await openPage(browser, DESKTOP, '/#account');
    const me = await signUp(bettor.page, `Bea ${RUN}`);
    await credit(me.id, 5_000);
    const posts = recordPosts(bettor.page, /^\/v1\/bets$/);
    await showTeam(bettor.page, team);
    await addToCart(bettor.page, capped, team, '1.00', 1);
    await addToCart(bettor.page, other, 'Draw', '1.00', 2);
    await openSlip(bettor.page);
    await bettor.page.getByRole('radio', { name: 'Accumulator' }).check();
    const slip = bettor.page.getByRole('region', { name: 'Accumulator' });
    const alert = slip.locator('[role="alert"]:not([hidden])');

    // 10.00 on a match that takes at most 5.00: refused, naming that leg.
    await slip.getByLabel('Accumulator stake').fill('10.00');
    assert.equal(await slip.locator('.acca-odds').textContent(), '8.50');
    assert.equal(await slip.locator('.acca-payout').textContent(), '€85.00');
    const refusal = nextAnswer(bettor.page, '/v1/bets');
    await slip.getByRole('button', { name: 'Place accumulator' }).click();
    const problem = await refusal;
    assert.equal(problem.code, 'stake_above_max');
    assert.equal(problem.match_id, capped.id);
    await alert.waitFor();
    assert.equal(await alert.getAttribute('data-code'), 'stake_above_max');
    assert.equal(await alert.textContent(), `${team}, ${team} v Voles ${RUN}: ${problem.detail} This match's maximum stake is €5.00.`);
    await bettor.page.waitForFunction(() => document.activeElement?.textContent === 'Place accumulator');
    assert.equal((await betsOf(me.id)).length, 0);
    assert.equal(await headerBalance(bettor.page), '€50.00');
    await screenshot(bettor.page, '44-accumulator-stake-above-max');

    // The draw's price moves after the slip was shown: the bettor is asked,
    // and on yes the accumulator is placed with that leg at the new price.
    await slip.getByLabel('Accumulator stake').fill('5.00');
    await admin('PATCH', `/v1/matches/${other.id}`, { odds: { X: 3.6 } });
    await slip.getByRole('button', { name: 'Place accumulator' }).click();
    const dialog = bettor.page.getByRole('dialog', { name: 'The price has changed' });
    await dialog.waitFor();
    assert.equal(await dialog.locator('li').textContent(), `Draw, Shrews ${RUN} v ${team}: 3.40 → 3.60`);
    assert.equal((await betsOf(me.id)).length, 0, 'nothing placed before the bettor answers');
    await screenshot(bettor.page, '45-accumulator-price-changed');
    await dialog.getByRole('button', { name: 'Accept new price' }).click();
    await bettor.page.getByRole('heading', { name: 'Accumulator placed' }).waitFor();
    assert.deepEqual(posts.slice(1).map((p) => p.body.legs.map((l) => l.odds)), [[2.5, 3.4], [2.5, 3.6]]);
    assert.notEqual(posts[1].headers['idempotency-key'], posts[2].headers['idempotency-key']);
    const [bet] = await betsOf(me.id);
    assert.equal(bet.odds, 9);
    assert.equal(bet.potential_payout, 4500);
    await bettor.page.locator('#balance', { hasText: '45.00' }).waitFor();

    // The same two selections again, while the first accumulator is pending.
    await showTeam(bettor.page, team);
    await addToCart(bettor.page, capped, team, '1.00', 1);
    await addToCart(bettor.page, other, 'Draw', '1.00', 2);
    await openSlip(bettor.page);
    await slip.getByLabel('Accumulator stake').fill('1.00');
    await slip.getByRole('button', { name: 'Place accumulator' }).click();
    await alert.waitFor();
    assert.equal(await alert.getAttribute('data-code'), 'duplicate_bet');
    assert.equal(await alert.textContent(), 'You already have a pending accumulator on exactly these selections.');
    // The button was disabled while placing: the focus is back on it.
    await bettor.page.waitForFunction(() => document.activeElement?.textContent === 'Place accumulator');
    assert.equal((await betsOf(me.id)).length, 1);
    assert.equal(await bettor.page.locator('li.cart-item').count(), 2, 'a refused accumulator leaves the cart as it was');
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('a bettor cashes out a pending single with the button: offer, countdown, new balance and status', async () => {
    const match = await createMatch(`Herons ${RUN}`, `Storks ${RUN}`, { daysAhead: 3, odds: { 1: 2.0, X: 3.2, 2: 3.5 } });
    const bettor = await openPage(browser, PHONE, '/#account');
    const me = await signUp(bettor.page, `Cal ${RUN}`);
    await credit(me.id, 5_000);
    const bet = await placeBet(bettor.page, { user_id: me.id, match_id: match.id, selection: '1', stake: 1000 });
    assert.equal(bet.type, 'single');
    assert.equal(bet.cash_out_amount, null);
    // The price lengthens: the bet is worth 10.00 x 2.00 / 2.50 = 8.00 less the margin.
    await admin('PATCH', `/v1/matches/${match.id}`, { odds: { 1: 2.5 } });
    const expected = lessMargin(800);
    const cashOuts = recordPosts(bettor.page, /\/cash-out$/);

    let row = await myBets(bettor.page, bet.id);
    assert.equal(await row.locator('td[data-label="Payout"]').textContent(), '€20.00 if it wins');
    const quoted = nextAnswer(bettor.page, `/v1/bets/${bet.id}/cash-out/quote`);
    await row.getByRole('button', { name: /^Cash out/ }).click();
    const quote = await quoted;
    assert.equal(quote.bet_id, bet.id);
    assert.equal(quote.amount, expected);
    const amount = row.locator('.cash-out-amount');
    await amount.waitFor();
    assert.equal(await amount.textContent(), money(expected));
    // The countdown to expires_at runs down.
    const countdown = row.locator('.countdown');
    const secondsLeft = async () => Number((await countdown.textContent()).match(/offer ends in (\d+) s/)?.[1]);
    const first = await secondsLeft();
    assert.ok(first >= 8 && first <= 10, `countdown starts at ${first}`);
    await bettor.page.waitForFunction(([sel, n]) => {
      const m = document.querySelector(sel)?.textContent.match(/in (\d+) s/);
      return m && Number(m[1]) < n;
    }, [`tr[data-bet-id="${bet.id}"] .countdown`, first]);
    await assertFitsWidth(bettor.page);
    await assertLabelled(bettor.page);
    await screenshot(bettor.page, '46-cash-out-offer-phone');

    await row.getByRole('button', { name: `Accept ${money(expected)} for bet #${bet.id}` }).click();
    const done = bettor.page.getByRole('status').filter({ hasText: 'Cashed out' });
    await done.waitFor();
    assert.equal(await done.textContent(), `Cashed out bet #${bet.id} for ${money(expected)}. Your balance is now ${money(4000 + expected)}.`);
    await bettor.page.locator('#balance', { hasText: money(4000 + expected) }).waitFor();
    assert.equal(cashOuts.length, 1);
    assert.deepEqual(cashOuts[0].body, { quote_id: quote.quote_id });
    assert.match(cashOuts[0].headers['idempotency-key'] ?? '', /^[0-9a-f]{32}$/);
    row = bettor.page.locator(`tr[data-bet-id="${bet.id}"][data-status="cashed_out"]`);
    await row.waitFor();
    assert.equal(await row.locator('td[data-label="Status"] .tag').textContent(), 'cashed out');
    assert.equal(await row.locator('td[data-label="Payout"]').textContent(), `${money(expected)} cashed out`);
    assert.equal(await row.getByRole('button', { name: /^Cash out/ }).count(), 0);
    const [now] = await betsOf(me.id);
    assert.equal(now.status, 'cashed_out');
    assert.equal(now.cash_out_amount, expected);
    assert.ok(now.settled_at, 'settled_at is set');
    await screenshot(bettor.page, '47-cashed-out-phone');

    // The status filter knows "Cashed out"; the ledger shows the credit.
    await bettor.page.getByLabel('Status').selectOption({ label: 'Cashed out' });
    await bettor.page.waitForFunction((id) => [...document.querySelectorAll('tbody tr')].map((tr) => tr.dataset.betId).join() === String(id), bet.id);
    await bettor.page.getByRole('link', { name: 'Ledger' }).click();
    const ledger = bettor.page.locator('table.data tbody tr');
    await ledger.nth(2).waitFor();
    assert.deepEqual(await ledger.evaluateAll((trs) => trs.map((tr) => tr.dataset.kind)), ['cash_out', 'stake', 'deposit']);
    assert.equal(await ledger.nth(0).locator('td').nth(1).textContent(), 'Cash-out');
    assert.equal(await ledger.nth(0).locator('td').nth(2).textContent(), `+${money(expected)}`);
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('a pending accumulator with a won leg is cashed out with the button', async () => {
    const a = await createMatch(`Geese ${RUN}`, `Swans ${RUN}`, { daysAhead: 3, odds: { 1: 2.0, X: 3.2, 2: 3.5 } });
    const b = await createMatch(`Swans ${RUN}`, `Geese ${RUN}`, { daysAhead: 5, odds: { 1: 1.9, X: 3.0, 2: 4.0 } });
    const bettor = await openPage(browser, DESKTOP, '/#account');
    const me = await signUp(bettor.page, `Dot ${RUN}`);
    await credit(me.id, 2_000);
    const bet = await placeBet(bettor.page, { user_id: me.id, legs: [{ match_id: a.id, selection: '1' }, { match_id: b.id, selection: 'X', odds: 3.0 }], stake: 500 });
    assert.equal(bet.potential_payout, 3000);
    await admin('POST', `/v1/matches/${a.id}/result`, { result: '1' });
    // Worth 5.00 x 2.00 (won) x 3.00 / 3.00 (unchanged) = 10.00, less the margin.
    const expected = lessMargin(1000);

    let row = await myBets(bettor.page, bet.id);
    assert.deepEqual(await legStates(row), ['won', 'pending']);
    assert.equal(await row.getAttribute('data-status'), 'pending');
    await row.getByRole('button', { name: /^Cash out/ }).click();
    await row.locator('.cash-out-amount', { hasText: money(expected) }).waitFor();
    await screenshot(bettor.page, '48-cash-out-accumulator');
    await row.getByRole('button', { name: /^Accept / }).click();
    await bettor.page.locator('#balance', { hasText: money(1500 + expected) }).waitFor();
    row = bettor.page.locator(`tr[data-bet-id="${bet.id}"][data-status="cashed_out"]`);
    await row.waitFor();
    assert.equal(await row.locator('td[data-label="Payout"]').textContent(), `${money(expected)} cashed out`);
    assert.deepEqual(await legStates(row), ['won', 'pending']);
    // Settling the other match later leaves the cashed-out bet alone.
    await admin('POST', `/v1/matches/${b.id}/result`, { result: 'X' });
    const [now] = await betsOf(me.id);
    assert.equal(now.status, 'cashed_out');
    assert.equal(now.cash_out_amount, expected);
    assert.equal((await api('GET', `/v1/users/${me.id}`, { token: config().adminToken })).json.balance, 1500 + expected);
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });

  test('cash-out refusals show their detail: no quote while suspended, then stale, settled and expired offers', async () => {
    const team = `Crows ${RUN}`;
    const make = (n, days) => createMatch(team, `${n} ${RUN}`, { daysAhead: days, odds: { 1: 2.0, X: 3.0, 2: 4.0 } });
    const [paused, settling, moving, slow] = [await make('Jays', 3), await make('Rooks', 4), await make('Kites', 5), await make('Terns', 6)];
    const bettor = await openPage(browser, DESKTOP, '/#account');
    const me = await signUp(bettor.page, `Eli ${RUN}`);
    await credit(me.id, 10_000);
    const bets = {};
    for (const [name, m] of Object.entries({ paused, settling, moving, slow })) {
      bets[name] = await placeBet(bettor.page, { user_id: me.id, match_id: m.id, selection: '1', stake: 1000 });
    }
    await admin('POST', `/v1/matches/${paused.id}/suspend`, {});
    const rowOf = (name) => bettor.page.locator(`tr[data-bet-id="${bets[name].id}"]`);
    const alertOf = (name) => rowOf(name).locator('[role="alert"]:not([hidden])');
    await myBets(bettor.page, bets.slow.id);

    // Suspended match: the quote is refused, with the server's detail.
    let answer = nextAnswer(bettor.page, `/v1/bets/${bets.paused.id}/cash-out/quote`);
    await rowOf('paused').getByRole('button', { name: /^Cash out/ }).click();
    let problem = await answer;
    assert.equal(problem.code, 'cash_out_unavailable');
    await alertOf('paused').waitFor();
    assert.equal(await alertOf('paused').getAttribute('data-code'), 'cash_out_unavailable');
    assert.equal(await alertOf('paused').textContent(), problem.detail);
    assert.equal(await rowOf('paused').locator('.cash-out-offer').isHidden(), true);
    // Disabled while asking, the button gets the focus back.
    await bettor.page.waitForFunction((id) => document.activeElement?.closest('.cash-out')?.dataset.betId === String(id), bets.paused.id);
    await screenshot(bettor.page, '49-cash-out-unavailable');

    // The match is settled while the offer is on screen: already settled.
    await rowOf('settling').getByRole('button', { name: /^Cash out/ }).click();
    await rowOf('settling').locator('.cash-out-amount').waitFor();
    // The offer's Accept has the focus (the button that asked for it was disabled).
    await bettor.page.waitForFunction(() => document.activeElement?.textContent?.startsWith('Accept '));
    await admin('POST', `/v1/matches/${settling.id}/result`, { result: '2' });
    answer = nextAnswer(bettor.page, `/v1/bets/${bets.settling.id}/cash-out`);
    await rowOf('settling').getByRole('button', { name: /^Accept / }).click();
    problem = await answer;
    assert.equal(problem.code, 'already_settled');
    await alertOf('settling').waitFor();
    assert.equal(await alertOf('settling').getAttribute('data-code'), 'already_settled');
    assert.equal(await alertOf('settling').textContent(), problem.detail);
    assert.equal(await rowOf('settling').getByRole('button', { name: /^Accept / }).count(), 0);

    // Left alone past expires_at, the offer says so and cannot be accepted.
    await rowOf('slow').getByRole('button', { name: /^Cash out/ }).click();
    await rowOf('slow').locator('.cash-out-amount').waitFor();
    await rowOf('slow').locator('.countdown', { hasText: 'offer expired' }).waitFor({ timeout: QUOTE_LIFETIME_MS + 5_000 });
    assert.equal(await rowOf('slow').getByRole('button', { name: /^Accept / }).isDisabled(), true);
    await screenshot(bettor.page, '50-cash-out-offer-expired');
    // A page whose clock stood still still sends an expired quote: the server
    // refuses it (quote_expired) and the detail is shown.
    await bettor.page.clock.install();
    await rowOf('slow').getByRole('button', { name: 'Get a new offer' }).click();
    await rowOf('slow').locator('.countdown', { hasText: 'offer ends in' }).waitFor();
    await bettor.page.clock.pauseAt(Date.now() + 500);
    await sleep(QUOTE_LIFETIME_MS + 1_500);
    answer = nextAnswer(bettor.page, `/v1/bets/${bets.slow.id}/cash-out`);
    await rowOf('slow').getByRole('button', { name: /^Accept / }).click();
    problem = await answer;
    assert.equal(problem.code, 'quote_expired');
    await alertOf('slow').waitFor();
    assert.equal(await alertOf('slow').getAttribute('data-code'), 'quote_expired');
    assert.equal(await alertOf('slow').textContent(), problem.detail);
    await bettor.page.clock.resume();

    // The price moves after the offer: odds_changed; a new offer takes the new
    // price into account (2.00 / 2.50) and is accepted.
    await rowOf('moving').getByRole('button', { name: /^Cash out/ }).click();
    await rowOf('moving').locator('.cash-out-amount', { hasText: money(lessMargin(1000)) }).waitFor();
    await admin('PATCH', `/v1/matches/${moving.id}`, { odds: { 1: 2.5 } });
    answer = nextAnswer(bettor.page, `/v1/bets/${bets.moving.id}/cash-out`);
    await rowOf('moving').getByRole('button', { name: /^Accept / }).click();
    problem = await answer;
    assert.equal(problem.code, 'odds_changed');
    await alertOf('moving').waitFor();
    assert.equal(await alertOf('moving').getAttribute('data-code'), 'odds_changed');
    assert.equal(await alertOf('moving').textContent(), problem.detail);
    await screenshot(bettor.page, '51-cash-out-odds-changed');
    await rowOf('moving').getByRole('button', { name: 'Get a new offer' }).click();
    const expected = lessMargin(800);
    await rowOf('moving').locator('.cash-out-amount', { hasText: money(expected) }).waitFor();
    assert.equal(await alertOf('moving').count(), 0, 'the old refusal is cleared');
    await rowOf('moving').getByRole('button', { name: /^Accept / }).click();
    await bettor.page.locator(`tr[data-bet-id="${bets.moving.id}"][data-status="cashed_out"]`).waitFor();
    // 100.00 - 4 x 10.00 + the cash-out; the settled bet (on "1", result "2") lost.
    await bettor.page.locator('#balance', { hasText: money(6000 + expected) }).waitFor();
    const states = Object.fromEntries((await betsOf(me.id)).map((b) => [b.id, b.status]));
    assert.deepEqual(
      [states[bets.paused.id], states[bets.settling.id], states[bets.moving.id], states[bets.slow.id]],
      ['pending', 'lost', 'cashed_out', 'pending'],
    );
    assert.deepEqual(bettor.problems, []);
    await bettor.context.close();
  });
});
