// The operator's tools that move money or cannot be undone (issue 23): a
// settlement asks first, with the bets, the stakes and what this result pays
// out, and asks again before kick-off; a closed match's prices cannot be
// saved; matches waiting for a result have their own filter; a deposit
// shows whose account it credits before any money moves; accounts are found
// by email or name; all bets name their bettors; a match's competition is
// set at creation and edited.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  DESKTOP, FIXTURE_FILE, PHONE, RUN, api, assertFitsWidth, assertLabelled, config, createMatch, createUser, launch, openPage, operatorSignIn,
  screenshot, showTeamToOperator, openOperatorTab
} from './support.mjs';

async function admin(method, path, body) {
  const res = await api(method, path, { token: config().adminToken, body });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

async function bet(user, match, selection, stake) {
  const res = await api('POST', '/v1/bets', { token: user.token, body: { user_id: user.id, match_id: match.id, selection, stake } });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

const matchNow = async (id) => (await api('GET', `/v1/matches/${id}`)).json;

// A match kicking off `seconds` from now (whole seconds).
async function matchKickingOffIn(team1, team2, seconds, odds = { 1: 2.5, X: 3.2, 2: 2.8 }) {
  const date = new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return admin('POST', '/v1/matches', { team_1: team1, team_2: team2, date, odds });
}

// Money as the page writes it (its own formatter, whatever its style).
const money = (page, cents) => page.evaluate(async (c) => (await import('/js/money.js')).formatMoney(c), cents);

// The figures in an open settlement question: {bets, staked, paid|refunded}.
async function figures(dialog) {
  const out = {};
  for (const key of ['bets', 'staked', 'paid', 'refunded']) {
    const dd = dialog.locator(`.settle-${key}`);
    if (await dd.count()) out[key] = (await dd.textContent()).trim();
  }
  return out;
}

// The page's requests with `method` to a path matching `path`.
function recordRequests(page, method, path) {
  const seen = [];
  page.on('request', (r) => {
    if (r.method() === method && path.test(new URL(r.url()).pathname)) seen.push(new URL(r.url()).pathname);
  });
  return seen;
}

describe('operator safety', () => {
  let browser;
  before(async () => {
    config();
    browser = await launch();
  });
  after(async () => browser?.close());

  test('settling after kick-off asks once, with the bets, the total staked and the payout; cancel changes nothing; void refunds', async () => {
    const team = `Moles ${RUN}`;
    // Kicks off in a few seconds: bets go on now, the result after kick-off.
    const match = await matchKickingOffIn(team, `Voles ${RUN}`, 8);
    const other = await matchKickingOffIn(`Voles ${RUN}`, team, 9);
    const ann = await createUser(`Ann ${RUN}`, 10_000);
    const ben = await createUser(`Ben ${RUN}`, 10_000);
    await bet(ann, match, '1', 1000); // pays 25.00 if 1 wins
    await bet(ben, match, 'X', 500); // pays 16.00 if X
    await bet(ann, other, '2', 700);
    await bet(ben, other, '1', 300);

    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    const posts = recordRequests(op.page, 'POST', /\/result$/);
    await showTeamToOperator(op.page, team);
    const card = op.page.locator(`li[data-match-id="${match.id}"]`);
    // At kick-off the card closes by itself: no prices, limits or competition.
    await op.page.locator(`li[data-match-id="${match.id}"][data-closed="true"]`).waitFor({ timeout: 20_000 });
    await op.page.locator(`li[data-match-id="${other.id}"][data-closed="true"]`).waitFor({ timeout: 20_000 });
    assert.equal(await card.getByRole('button', { name: 'Save odds' }).isDisabled(), true);
    assert.equal(await card.getByRole('button', { name: 'Save limits' }).isDisabled(), true);
    assert.equal(await card.getByRole('button', { name: 'Save competition' }).isDisabled(), true);
    assert.equal(await card.getByLabel(/^X/).isDisabled(), true);
    assert.match(await card.locator('.closed-note').textContent(), /closed for betting/);
    assert.equal(await card.getByRole('button', { name: 'Enter result' }).isEnabled(), true);

    // Asked first, with the figures; Cancel settles nothing.
    await card.getByLabel(/^Result/).selectOption('1');
    await card.getByRole('button', { name: 'Enter result' }).click();
    const dialog = op.page.getByRole('alertdialog', { name: `Settle ${team} v Voles ${RUN} as 1 – ${team} won?` });
    await dialog.waitFor();
    assert.deepEqual(await figures(dialog), { bets: '2', staked: await money(op.page, 1500), paid: await money(op.page, 2500) });
    assert.match(await dialog.textContent(), /cannot be changed once entered/);
    // The safe answer has the focus.
    assert.equal(await op.page.evaluate(() => document.activeElement?.textContent), 'Cancel');
    await screenshot(op.page, '90-settle-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await card.getByText('Not settled: nothing was changed.').waitFor();
    assert.deepEqual(posts, []);
    assert.equal((await matchNow(match.id)).status, 'open');

    // Escape is "no" too.
    await card.getByRole('button', { name: 'Enter result' }).click();
    await dialog.waitFor();
    await op.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.deepEqual(posts, []);

    // Confirmed: settled at once (kick-off has passed: no second question).
    await card.getByRole('button', { name: 'Enter result' }).click();
    await dialog.getByRole('button', { name: 'Settle as 1' }).click();
    await card.getByText(`Settled as 1: 1 won, 1 lost, 0 void; paid out ${await money(op.page, 2500)}, refunded ${await money(op.page, 0)}.`).waitFor();
    assert.equal(await op.page.getByRole('alertdialog').count(), 0);
    assert.equal(posts.length, 1);
    assert.equal((await matchNow(match.id)).result, '1');

    // Void: the question says every stake is refunded, and how much.
    const otherCard = op.page.locator(`li[data-match-id="${other.id}"]`);
    await otherCard.getByLabel(/^Result/).selectOption('void');
    await otherCard.getByRole('button', { name: 'Enter result' }).click();
    const voidDialog = op.page.getByRole('alertdialog', { name: /^Settle .* as Void/ });
    await voidDialog.waitFor();
    assert.deepEqual(await figures(voidDialog), { bets: '2', staked: await money(op.page, 1000), refunded: await money(op.page, 1000) });
    assert.match(await voidDialog.textContent(), /Every stake is refunded/);
    await voidDialog.getByRole('button', { name: 'Void the match' }).click();
    await otherCard.getByText(/^Settled as void: 0 won, 0 lost, 2 void/).waitFor();
    assert.equal((await matchNow(other.id)).result, 'void');
    assert.deepEqual(op.problems, []);
    await op.context.close();
  });

  test('settling before kick-off needs a second, explicit confirmation', async () => {
    const team = `Shrews ${RUN}`;
    const match = await createMatch(team, `Hedgehogs ${RUN}`, { daysAhead: 2, odds: { 1: 2.0, X: 3.0, 2: 4.0 } });
    const cid = await createUser(`Cid ${RUN}`, 10_000);
    await bet(cid, match, 'X', 2000);
    const op = await openPage(browser, PHONE, '/#operator');
    await operatorSignIn(op.page);
    const posts = recordRequests(op.page, 'POST', /\/result$/);
    await showTeamToOperator(op.page, team);
    const card = op.page.locator(`li[data-match-id="${match.id}"]`);
    assert.equal(await card.getAttribute('data-closed'), 'false');
    assert.equal(await card.getByRole('button', { name: 'Save odds' }).isEnabled(), true);

    const early = op.page.getByRole('alertdialog', { name: 'Settle before kick-off?' });
    const first = op.page.getByRole('alertdialog', { name: /^Settle Shrews .* as X – draw\?$/ });
    // The first question answered yes, the second no: nothing is settled.
    await card.getByLabel(/^Result/).selectOption('X');
    await card.getByRole('button', { name: 'Enter result' }).click();
    await first.waitFor();
    assert.deepEqual(await figures(first), { bets: '1', staked: await money(op.page, 2000), paid: await money(op.page, 6000) });
    await first.getByRole('button', { name: 'Settle as X' }).click();
    await early.waitFor();
    const kickoff = await early.locator('.confirm-kickoff time').getAttribute('datetime');
    assert.equal(kickoff, match.date);
    assert.match(await early.textContent(), /has not started: kick-off is .* \(in (1|2) days?\)/);
    assert.equal(await op.page.evaluate(() => document.activeElement?.textContent), 'Cancel');
    await assertFitsWidth(op.page);
    await screenshot(op.page, '91-settle-before-kickoff-phone');
    await early.getByRole('button', { name: 'Cancel' }).click();
    await early.waitFor({ state: 'detached' });
    await card.getByText('Not settled: nothing was changed.').waitFor();
    assert.deepEqual(posts, []);
    assert.equal((await matchNow(match.id)).status, 'open');

    // Both answered yes: settled.
    await card.getByRole('button', { name: 'Enter result' }).click();
    await first.getByRole('button', { name: 'Settle as X' }).click();
    await early.getByRole('button', { name: 'Yes, settle before kick-off' }).click();
    await card.getByText(/^Settled as X: 1 won, 0 lost/).waitFor();
    assert.equal(posts.length, 1);
    assert.equal((await matchNow(match.id)).result, 'X');
    // The keyboard stays on the match (its heading), not lost with the form.
    assert.equal(await op.page.evaluate(() => document.activeElement?.className), 'match-title');
    assert.deepEqual(op.problems, []);
    await op.context.close();
  });

  test('"Waiting for a result" lists the kicked-off matches that are not settled, suspended ones too', async () => {
    const team = `Lynx ${RUN}`;
    const soon = await matchKickingOffIn(team, `Pumas ${RUN}`, 5);
    const soonSuspended = await matchKickingOffIn(`Pumas ${RUN}`, team, 6);
    const settled = await matchKickingOffIn(team, `Ocelots ${RUN}`, 6);
    const future = await createMatch(`Ocelots ${RUN}`, team, { daysAhead: 3 });
    await admin('POST', `/v1/matches/${soonSuspended.id}/suspend`, {});
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await showTeamToOperator(op.page, team);
    // Wait for kick-off of all three, as the cards show it.
    for (const m of [soon, soonSuspended, settled]) await op.page.locator(`li[data-match-id="${m.id}"][data-closed="true"]`).waitFor({ timeout: 20_000 });
    await admin('POST', `/v1/matches/${settled.id}/result`, { result: '2' });

    await op.page.getByLabel('Status').selectOption('waiting');
    const ids = () => op.page.locator('li.admin-match').evaluateAll((lis) => lis.map((li) => Number(li.dataset.matchId)));
    await op.page.waitForFunction(
      ([a, b]) => {
        const shown = [...document.querySelectorAll('li.admin-match')].map((li) => Number(li.dataset.matchId));
        return shown.length === 2 && shown.includes(a) && shown.includes(b);
      },
      [soon.id, soonSuspended.id],
    );
    assert.deepEqual(await ids(), [soon.id, soonSuspended.id]); // by date
    assert.equal(await op.page.locator(`li[data-match-id="${future.id}"]`).count(), 0);
    assert.equal(await op.page.locator(`li[data-match-id="${settled.id}"]`).count(), 0);
    for (const li of await op.page.locator('li.admin-match').all()) {
      assert.equal(await li.getAttribute('data-closed'), 'true');
      assert.equal(await li.getByRole('button', { name: 'Save odds' }).isDisabled(), true);
    }
    await assertLabelled(op.page);
    await screenshot(op.page, '92-waiting-for-result');

    // Latest first reverses them; settling one takes it off the list.
    await op.page.getByLabel('Order').selectOption('-date');
    await op.page.waitForFunction((first) => document.querySelector('li.admin-match')?.dataset.matchId === String(first), soonSuspended.id);
    assert.deepEqual(await ids(), [soonSuspended.id, soon.id]);
    await admin('POST', `/v1/matches/${soon.id}/result`, { result: '1' });
    await op.page.getByRole('button', { name: 'Show' }).click();
    await op.page.waitForFunction(() => document.querySelectorAll('li.admin-match').length === 1);
    assert.deepEqual(await ids(), [soonSuspended.id]);
    assert.deepEqual(op.problems, []);
    await op.context.close();
  });

  test('a price change refused because the match closed meanwhile shows the match closed', async () => {
    const team = `Stoats ${RUN}`;
    const match = await createMatch(team, `Minks ${RUN}`, { daysAhead: 2 });
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await showTeamToOperator(op.page, team);
    const card = op.page.locator(`li[data-match-id="${match.id}"]`);
    assert.equal(await card.getByRole('button', { name: 'Save odds' }).isEnabled(), true);
    // Settled elsewhere while this page shows it open: the change is refused,
    // and the card shows the match as it is now, without the forms.
    await admin('POST', `/v1/matches/${match.id}/result`, { result: 'void' });
    await card.getByLabel(/^X/).fill('3.50');
    await card.getByRole('button', { name: 'Save odds' }).click();
    await op.page.locator(`li[data-match-id="${match.id}"][data-status="settled"]`).waitFor();
    await card.getByText('This match is closed for betting.').waitFor();
    // The form that was used is gone: the focus is on the match, not lost.
    assert.equal(await op.page.evaluate(() => document.activeElement?.closest('li.admin-match')?.dataset.matchId), String(match.id));
    assert.equal(await card.getByRole('button', { name: 'Save odds' }).count(), 0);
    assert.equal(await card.getByRole('button', { name: 'Enter result' }).count(), 0);
    assert.equal((await matchNow(match.id)).odds.X, 3.25);
    assert.deepEqual(op.problems, []);
    await op.context.close();
  });

  test('a match\'s competition is set at creation, shown, edited and removed (a closed match\'s cannot change: see the first test)', async () => {
    const home = `Wrens ${RUN}`;
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await openOperatorTab(op.page, 'New match');
    await op.page.getByLabel('Team 1 (home)').fill(home);
    await op.page.getByLabel('Team 2 (away)').fill(`Robins ${RUN}`);
    await op.page.getByLabel('Competition (optional)').fill(`  Garden League ${RUN}  `);
    await op.page.getByLabel(/^1/).fill('2.00');
    await op.page.getByRole('button', { name: 'Create match' }).click();
    const created = op.page.getByRole('status').filter({ hasText: 'Created match' });
    await created.waitFor();
    assert.match(await created.textContent(), new RegExp(`\\(Garden League ${RUN}\\)\\.$`));
    const id = Number((await created.textContent()).match(/#(\d+)/)[1]);
    assert.equal((await matchNow(id)).competition, `Garden League ${RUN}`);
    // Kept for the next match of the same competition.
    assert.equal(await op.page.getByLabel('Competition (optional)').inputValue(), `  Garden League ${RUN}  `);
    // Too long: refused next to the field, nothing sent.
    await op.page.getByLabel('Team 1 (home)').fill(`Larks ${RUN}`);
    await op.page.getByLabel('Team 2 (away)').fill(`Finches ${RUN}`);
    await op.page.getByLabel(/^1/).fill('2.00');
    await op.page.getByLabel('Competition (optional)').fill('x'.repeat(100) + 'y');
    assert.equal((await op.page.getByLabel('Competition (optional)').inputValue()).length, 100); // maxlength
    await op.page.getByLabel('Competition (optional)').evaluate((el) => { el.removeAttribute('maxlength'); el.value = 'x'.repeat(101); });
    await op.page.getByRole('button', { name: 'Create match' }).click();
    assert.match(await op.page.locator('[data-field="competition"] + .field-error').textContent(), /At most 100/);

    await showTeamToOperator(op.page, home);
    const card = op.page.locator(`li[data-match-id="${id}"]`);
    assert.equal(await card.locator('.match-competition').textContent(), `Garden League ${RUN}`);
    await card.getByRole('textbox', { name: 'Competition', exact: true }).fill(`Hedge Cup ${RUN}`);
    const patched = op.page.waitForRequest((r) => r.method() === 'PATCH' && new URL(r.url()).pathname === `/v1/matches/${id}`);
    await card.getByRole('button', { name: 'Save competition' }).click();
    assert.deepEqual((await patched).postDataJSON(), { competition: `Hedge Cup ${RUN}` });
    await card.getByText('Competition saved.').waitFor();
    assert.equal(await card.locator('.match-competition').textContent(), `Hedge Cup ${RUN}`);
    const now = await matchNow(id);
    assert.equal(now.competition, `Hedge Cup ${RUN}`);
    assert.equal(now.odds_version, 1); // not a price change
    // Emptied: removed (sent as null).
    await card.getByRole('textbox', { name: 'Competition', exact: true }).fill('');
    await card.getByRole('button', { name: 'Save competition' }).click();
    await card.getByText('Competition removed.').waitFor();
    assert.equal((await matchNow(id)).competition, null);
    assert.equal(await card.locator('.match-competition').count(), 0);
    await assertLabelled(op.page);
    assert.deepEqual(op.problems, []);
    await op.context.close();
  });

  test('a deposit shows whose account it credits before the money moves', async () => {
    const dora = await createUser(`Dora Deposit ${RUN}`);
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    const deposits = recordRequests(op.page, 'POST', /\/deposits$/);
    await openOperatorTab(op.page, 'Accounts');
    const credit = op.page.locator('form:has(#credit-heading)');
    const button = credit.getByRole('button', { name: 'Credit' });
    assert.equal(await button.isDisabled(), true);

    // An account that does not exist: said, and nothing can be credited.
    await credit.getByLabel('Account number').fill('999999999');
    await credit.locator('[data-field="user_id"] + .field-error', { hasText: 'There is no account with this number.' }).waitFor();
    await credit.getByLabel('Amount').fill('25.00');
    assert.equal(await button.isDisabled(), true);

    // The real one: name and email appear, then Credit can be pressed.
    await credit.getByLabel('Account number').fill(String(dora.id));
    const recipient = credit.locator(`.recipient[data-user-id="${dora.id}"]`);
    await recipient.waitFor();
    assert.equal(await recipient.locator('.recipient-name').textContent(), `Dora Deposit ${RUN}`);
    assert.equal(await recipient.locator('.recipient-email').textContent(), dora.email);
    assert.equal(await credit.locator('[data-field="user_id"] + .field-error').count(), 0);
    assert.equal(await button.isEnabled(), true);
    assert.equal(await button.getAttribute('aria-describedby'), 'credit-recipient');
    await screenshot(op.page, '93-deposit-recipient');
    // Another number typed: the shown account no longer counts.
    await credit.getByLabel('Account number').fill(`${dora.id}0`);
    assert.equal(await button.isDisabled(), true);
    await credit.getByLabel('Account number').fill(String(dora.id));
    await recipient.waitFor();
    await button.click();
    await credit.getByText(`Credited ${await money(op.page, 2500)} to account #${dora.id}. Balance is now ${await money(op.page, 2500)}.`).waitFor();
    assert.equal(await recipient.locator('.recipient-balance').textContent(), await money(op.page, 2500));
    assert.deepEqual(deposits, [`/v1/users/${dora.id}/deposits`]);
    assert.equal((await api('GET', `/v1/users/${dora.id}`, { token: dora.token })).json.balance, 2500);
    await assertLabelled(op.page);
    assert.deepEqual(op.problems, []);
    await op.context.close();
  });

  test('a deposit whose answer was lost is credited once when Credit is pressed again', async () => {
    const lena = await createUser(`Lena Lost ${RUN}`);
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await openOperatorTab(op.page, 'Accounts');
    const credit = op.page.locator('form:has(#credit-heading)');
    const keys = [];
    let loseNext = true;
    // The first deposit reaches the server and is made, but its answer never
    // reaches the page (as when a connection drops after the request went).
    await op.page.route(`**/v1/users/${lena.id}/deposits`, async (route) => {
      keys.push(route.request().headers()['idempotency-key']);
      if (!loseNext) return route.continue();
      loseNext = false;
      await route.fetch();
      return route.abort('connectionreset');
    });
    await credit.getByLabel('Account number').fill(String(lena.id));
    await credit.locator(`.recipient[data-user-id="${lena.id}"]`).waitFor();
    await credit.getByLabel('Amount').fill('40.00');
    await credit.getByRole('button', { name: 'Credit' }).click();
    await credit.locator('.error', { hasText: 'Could not reach the server.' }).waitFor();
    assert.equal((await api('GET', `/v1/users/${lena.id}`, { token: lena.token })).json.balance, 4000, 'the first press was credited');

    // Pressed again: the same deposit, under the same key, said to have been
    // made already, and not made twice.
    await credit.getByRole('button', { name: 'Credit' }).click();
    await credit.getByText(`Already credited: ${await money(op.page, 4000)} to account #${lena.id} was made by an earlier press`, { exact: false }).waitFor();
    await credit.locator('.recipient-balance', { hasText: await money(op.page, 4000) }).waitFor();
    assert.equal(keys.length, 2);
    assert.match(keys[0], /^[0-9a-f]{32}$/);
    assert.equal(keys[1], keys[0]);
    assert.equal((await api('GET', `/v1/users/${lena.id}`, { token: lena.token })).json.balance, 4000);
    await screenshot(op.page, '94-deposit-already-credited');

    // Pressed once more: a new deposit, under a new key.
    await credit.getByRole('button', { name: 'Credit' }).click();
    await credit.getByText(`Credited ${await money(op.page, 4000)} to account #${lena.id}. Balance is now ${await money(op.page, 8000)}.`).waitFor();
    assert.equal(keys.length, 3);
    assert.notEqual(keys[2], keys[0]);
    assert.equal((await api('GET', `/v1/users/${lena.id}`, { token: lena.token })).json.balance, 8000);
    await assertLabelled(op.page);
    await op.context.close();
  });

  test('an operator finds an account by the start of its email or part of its name, then credits or looks it up', async () => {
    const greta = await createUser(`Greta Findme ${RUN}`);
    const hugo = await createUser(`Hugo Findme ${RUN}`);
    await createUser(`Ivo Other ${RUN}`);
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await openOperatorTab(op.page, 'Accounts');
    const find = op.page.locator('form.find-account');
    const searches = [];
    op.page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname === '/v1/users' && r.method() === 'GET') searches.push(url.searchParams.get('q'));
    });

    // Nothing listed (nor paged) before a search.
    assert.equal(await find.getByRole('navigation', { name: 'Account pages' }).count(), 0);
    assert.equal(await find.locator('table').count(), 0);

    // Too short: said next to the field, not asked.
    await find.getByLabel('Email or name').fill(' g ');
    await find.getByRole('button', { name: 'Find', exact: true }).click();
    await find.locator('[data-field="q"] + .field-error', { hasText: 'at least 2 characters' }).waitFor();
    assert.deepEqual(searches, []);

    // Part of a name, any case: both Findme accounts of this run, newest first.
    await find.getByLabel('Email or name').fill(`fINDme ${RUN.toUpperCase()}`);
    await find.getByRole('button', { name: 'Find', exact: true }).click();
    await find.getByRole('status').filter({ hasText: '2 accounts found' }).waitFor();
    assert.deepEqual(await find.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.userId))), [hugo.id, greta.id]);
    assert.deepEqual(await find.locator('tbody tr .account-email').allTextContents(), [hugo.email, greta.email]);
    await assertLabelled(op.page);
    await screenshot(op.page, '94-find-account');

    // The start of an email.
    await find.getByLabel('Email or name').fill(greta.email.slice(0, greta.email.indexOf('@')).toUpperCase());
    await find.getByRole('button', { name: 'Find', exact: true }).click();
    await find.getByRole('status').filter({ hasText: '1 account found' }).waitFor();
    const row = find.locator(`tr[data-user-id="${greta.id}"]`);
    await row.waitFor();

    // Credit from the result: the number and whose it is are filled in, the amount is next.
    await row.getByRole('button', { name: `Credit Greta Findme ${RUN} (#${greta.id})` }).click();
    const credit = op.page.locator('form:has(#credit-heading)');
    assert.equal(await credit.getByLabel('Account number').inputValue(), String(greta.id));
    assert.equal(await credit.locator('.recipient .recipient-email').textContent(), greta.email);
    assert.equal(await op.page.evaluate(() => document.activeElement?.name), 'amount');
    await op.page.keyboard.type('12.34');
    await credit.getByRole('button', { name: 'Credit' }).click();
    await credit.getByText(`Credited ${await money(op.page, 1234)} to account #${greta.id}.`).waitFor();

    // Look up from the result: the account's details below.
    await row.getByRole('button', { name: `Look up Greta Findme ${RUN} (#${greta.id})` }).click();
    const lookup = op.page.locator('form:has(#lookup-heading)');
    await lookup.locator('.details', { hasText: greta.email }).waitFor();
    assert.equal(await lookup.getByLabel('Account number').inputValue(), String(greta.id));
    await lookup.locator('.balance', { hasText: await money(op.page, 1234) }).waitFor();
    assert.deepEqual(op.problems, []);
    await op.context.close();

    // Support may search (and look up), without crediting.
    const email = `support.find.${RUN}@example.com`;
    await admin('POST', '/v1/operators', { email, password: 'correct horse battery', role: 'support' });
    const sup = await openPage(browser, PHONE, '/#operator');
    const signIn = sup.page.locator('form.signin-form');
    await signIn.getByLabel('Email').fill(email);
    await signIn.getByLabel('Password', { exact: true }).fill('correct horse battery');
    await signIn.getByRole('button', { name: 'Sign in', exact: true }).click();
    await sup.page.getByRole('navigation', { name: 'Operator' }).waitFor();
    await openOperatorTab(sup.page, 'Accounts');
    await sup.page.getByLabel('Email or name').fill(`Hugo Findme ${RUN}`);
    await sup.page.getByRole('button', { name: 'Find', exact: true }).click();
    const hugoRow = sup.page.locator(`tr[data-user-id="${hugo.id}"]`);
    await hugoRow.waitFor();
    assert.equal(await hugoRow.getByRole('button', { name: /^Credit/ }).count(), 0);
    assert.equal(await sup.page.getByRole('button', { name: /^Credit/ }).count(), 0);
    await assertFitsWidth(sup.page);
    await screenshot(sup.page, '95-find-account-support-phone');
    assert.deepEqual(sup.problems, []);
    await sup.context.close();
  });

  test('importing the bundled file again days later finds its matches (same competition, same dates): none is created twice', async () => {
    const importOnce = async (daysLater) => {
      const op = await openPage(browser, DESKTOP, '/favicon.svg');
      // The browser's clock `daysLater` days ahead: a "move into the
      // future" relative to now would pick other dates.
      await op.page.clock.setFixedTime(new Date(Date.now() + daysLater * 86_400_000));
      await operatorSignIn(op.page);
      await openOperatorTab(op.page, 'Import fixtures');
      await op.page.getByLabel('Bundled demo file').selectOption({ label: 'English Premier League 2025/26 (matchdays 1-3)' });
      await op.page.getByRole('button', { name: 'Load', exact: true }).click();
      const preview = await op.page.locator('.preview-line').textContent();
      await op.page.getByRole('button', { name: 'Import 30 matches' }).click();
      const done = op.page.getByRole('status').filter({ hasText: 'Import finished' });
      await done.waitFor({ timeout: 60_000 });
      const [, created, existing, failed] = (await done.textContent()).match(/(\d+) created, (\d+) already there, (\d+) failed/).map(Number);
      assert.deepEqual(op.problems, []);
      await op.context.close();
      return { preview, created, existing, failed };
    };
    const first = await importOnce(0);
    assert.equal(first.failed, 0);
    assert.equal(first.created + first.existing, 30);
    const again = await importOnce(3);
    assert.deepEqual([again.created, again.existing, again.failed], [0, 30, 0]);
    assert.match(again.preview, /moved \d+ days forward, as when it was first imported/);
    // Each fixture once, under the file's name as its competition.
    const file = JSON.parse(readFileSync(FIXTURE_FILE, 'utf8'));
    const listed = await api('GET', `/v1/matches?competition=${encodeURIComponent(file.name)}&team=${encodeURIComponent('Liverpool FC')}&limit=100`);
    assert.equal(listed.status, 200, listed.text);
    const pairs = listed.json.items.map((m) => `${m.team_1} v ${m.team_2}`);
    assert.equal(new Set(pairs).size, pairs.length, `duplicates: ${pairs.join(', ')}`);
    assert.equal(pairs.length, file.matches.filter((m) => m.team1 === 'Liverpool FC' || m.team2 === 'Liverpool FC').length);
  });

  test('all bets name their bettors', async () => {
    const match = await createMatch(`Geckos ${RUN}`, `Iguanas ${RUN}`, { daysAhead: 4 });
    const kim = await createUser(`Kim Bettor ${RUN}`, 5_000);
    const lee = await createUser(`Lee Bettor ${RUN}`, 5_000);
    const kimBet = await bet(kim, match, '1', 100);
    const leeBet = await bet(lee, match, '2', 200);
    const op = await openPage(browser, PHONE, '/#operator');
    await operatorSignIn(op.page);
    await openOperatorTab(op.page, 'All bets');
    await op.page.getByLabel('Match number').fill(String(match.id));
    await op.page.getByRole('button', { name: 'Show' }).click();
    await op.page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 2);
    const user = (b) => op.page.locator(`tr[data-bet-id="${b.id}"] td[data-label="User"]`);
    await user(kimBet).locator('.user-name').waitFor();
    assert.equal((await user(kimBet).textContent()).trim(), `Kim Bettor ${RUN} #${kim.id}`);
    assert.equal((await user(leeBet).textContent()).trim(), `Lee Bettor ${RUN} #${lee.id}`);
    await assertFitsWidth(op.page);
    await screenshot(op.page, '96-all-bets-names-phone');
    assert.deepEqual(op.problems, []);
    await op.context.close();
  });
});
