// Accounts and access through the web UI (API.md Part 2, "Accounts and
// access"): a bettor's password sign-in and sign-out, the messages for a
// wrong password and for too many attempts, operators signing in and seeing
// only what their role may do, creating an operator, changing and resetting
// passwords, and the audit log.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DESKTOP, PHONE, RUN, api, assertFitsWidth, assertLabelled, config, createMatch, createUser, launch, openPage, operatorSignIn, screenshot, openOperatorTab
} from './support.mjs';

const PASSWORD = 'correct horse 1';

// The tabs each role gets on the operator page (web/js/roles.js).
const TABS = {
  trader: ['Matches & results', 'New match', 'Import fixtures'],
  support: ['Accounts', 'All bets'],
  admin: ['Matches & results', 'New match', 'Import fixtures', 'Accounts', 'Summary', 'All bets', 'Operators', 'Audit log'],
};

// A sub-page each role may not open (by its address).
const NOT_FOR = { trader: 'audit', support: 'matches', admin: null };

const emailFor = (name) => `${name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}.${RUN}@example.com`;

// An operator made by the owner through the API: {id, email, role}.
async function createOperator(name, role) {
  const res = await api('POST', '/v1/operators', { token: config().adminToken, body: { email: emailFor(name), password: PASSWORD, role } });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json.role, role);
  return res.json;
}

// A session token for an email and password, through the API.
async function sessionFor(email, password = PASSWORD) {
  const res = await api('POST', '/v1/sessions', { body: { email, password } });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

// The bettor's stored session (what this browser keeps), or null.
const storedUser = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('betsdb.user') ?? 'null'));

// Fills the email and password of the sign-in form on the page and submits it.
async function signIn(page, email, password) {
  const form = page.locator('form.signin-form');
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await form.getByRole('button', { name: 'Sign in', exact: true }).click();
}

// The statuses of the page's answers from /v1/, e.g. to prove no 403 came back.
function recordStatuses(page) {
  const seen = [];
  page.on('response', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/v1/')) seen.push(`${r.status()} ${r.request().method()} ${url.pathname}`);
  });
  return seen;
}

const tabNames = (page) => page.getByRole('navigation', { name: 'Operator' }).getByRole('link').allTextContents();

describe('accounts and access in the web UI', () => {
  let browser;
  before(async () => {
    config();
    browser = await launch();
  });
  after(async () => browser?.close());

  test('a bettor signs up with a password, signs in (a wrong password is refused) and signs out', async () => {
    const name = `Iris ${RUN}`;
    const email = emailFor(name);
    const { context, page, problems } = await openPage(browser, PHONE, '/#account');
    const signup = page.locator('form:has(#signup-heading)');
    await signup.getByLabel('Email').fill(email);
    await signup.getByLabel('Name').fill(name);
    // Too short: refused in the browser, next to the field.
    await signup.getByLabel('Password (optional)').fill('short');
    await signup.getByRole('button', { name: 'Sign up' }).click();
    assert.match(await signup.locator('[data-field="password"] ~ .field-error').textContent(), /8 to 128 characters/);
    await signup.getByLabel('Password (optional)').fill(PASSWORD);
    await signup.getByRole('button', { name: 'Sign up' }).click();
    const id = Number((await page.locator('.token-notice .user-id').textContent()).replace('#', ''));
    const signupToken = (await storedUser(page)).token;
    assert.equal((await storedUser(page)).kind, 'signup');

    // A sign-up token is only forgotten here: it may be the only way in.
    await page.getByRole('button', { name: 'Sign out on this device' }).click();
    assert.equal(await storedUser(page), null);
    assert.equal((await api('GET', `/v1/users/${id}`, { token: signupToken })).status, 200);

    // The header offers the sign-in page.
    await page.locator('#who').getByRole('link', { name: 'Sign in' }).click();
    await page.locator('form.signin-form').waitFor();
    await assertLabelled(page);
    await assertFitsWidth(page);

    // A wrong password: a clear message, the password emptied, still signed out.
    await signIn(page, email, 'not the password');
    const alert = page.locator('form.signin-form').getByRole('alert');
    await alert.filter({ hasText: /\S/ }).waitFor();
    assert.equal(await alert.textContent(), 'That email and password do not match an account.');
    assert.equal(await alert.getAttribute('data-code'), 'invalid_credentials');
    assert.equal(await page.locator('form.signin-form').getByLabel('Password', { exact: true }).inputValue(), '');
    assert.equal(await storedUser(page), null);
    await screenshot(page, '60-signin-wrong-password-phone');

    // The right one (the email in other case works too): signed in with a session.
    await signIn(page, email.toUpperCase(), PASSWORD);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    const session = await storedUser(page);
    assert.equal(session.id, id);
    assert.equal(session.kind, 'session');
    assert.notEqual(session.token, signupToken);
    assert.ok(Date.parse(session.expiresAt) > Date.now() + 29 * 86_400_000, session.expiresAt);
    assert.equal((await page.locator('#who .who-name').textContent()).trim(), name);
    assert.equal(await page.locator('dd.user-id').textContent(), `#${id}`);
    await page.locator('dd.expires').waitFor();
    await assertFitsWidth(page);
    await screenshot(page, '61-signed-in-phone');

    // Signing out ends the session on the server: that token is refused from
    // now on, the sign-up token still works.
    const ended = page.waitForResponse((r) => r.request().method() === 'DELETE' && new URL(r.url()).pathname === '/v1/sessions/current');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    assert.equal((await ended).status(), 204);
    await page.getByRole('status').filter({ hasText: 'Signed out' }).waitFor();
    assert.equal(await storedUser(page), null);
    assert.equal((await api('GET', `/v1/users/${id}`, { token: session.token })).status, 401);
    assert.equal((await api('GET', `/v1/users/${id}`, { token: signupToken })).status, 200);
    assert.equal((await page.locator('#who').textContent()).trim(), 'Sign in · Sign up');

    // The sign-up token still signs in (account number and token), and can be
    // revoked on purpose: then it is refused too.
    await page.getByText('No password? Sign in with your account number and token').click();
    await page.getByLabel('Account number').fill(String(id));
    await page.getByLabel('Token', { exact: true }).fill(signupToken);
    await page.getByRole('button', { name: 'Sign in with this token' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    assert.equal((await storedUser(page)).kind, 'token');
    await page.getByRole('button', { name: 'Revoke this token' }).click();
    await page.getByRole('status').filter({ hasText: 'Signed out' }).waitFor();
    assert.equal(await storedUser(page), null);
    assert.equal((await api('GET', `/v1/users/${id}`, { token: signupToken })).status, 401);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('too many attempts: the wait from Retry-After is shown, for sign-in and sign-up', async () => {
    const name = `Jules ${RUN}`;
    const res = await api('POST', '/v1/users', { body: { email: emailFor(name), name, password: PASSWORD } });
    assert.equal(res.status, 201, res.text);
    for (let i = 0; i < 10; i += 1) {
      const wrong = await api('POST', '/v1/sessions', { body: { email: emailFor(name), password: `wrong ${i} password` } });
      assert.equal(wrong.status, 401, wrong.text);
    }
    const { context, page, problems } = await openPage(browser, DESKTOP, '/#account/signin');
    // Locked for this email, even with the right password.
    await signIn(page, emailFor(name), PASSWORD);
    const alert = page.locator('form.signin-form').getByRole('alert');
    await alert.filter({ hasText: /\S/ }).waitFor();
    assert.equal(await alert.getAttribute('data-code'), 'too_many_requests');
    const [, minutes] = (await alert.textContent()).match(/^Too many failed sign-ins for this email\. Try again in (\d+) minutes?\.$/) ?? [];
    assert.ok(Number(minutes) >= 1 && Number(minutes) <= 15, await alert.textContent());
    assert.equal(await storedUser(page), null);
    await screenshot(page, '62-signin-too-many');

    // Sign-ups are limited per address; test servers turn the limit off, so
    // the server's answer is stood in for here.
    await page.route('**/v1/users', (route) =>
      route.fulfill({
        status: 429,
        headers: { 'Content-Type': 'application/problem+json', 'Retry-After': '42' },
        body: JSON.stringify({ type: 'about:blank', title: 'Too Many Requests', status: 429, code: 'too_many_requests', detail: 'slow down' }),
      }),
    );
    await page.goto('/#account');
    const signup = page.locator('form:has(#signup-heading)');
    await signup.getByLabel('Email').fill(emailFor(`Kim ${RUN}`));
    await signup.getByLabel('Name').fill(`Kim ${RUN}`);
    await signup.getByRole('button', { name: 'Sign up' }).click();
    const refused = signup.getByRole('alert').filter({ hasText: /\S/ });
    await refused.waitFor();
    assert.equal(await refused.textContent(), 'Too many sign-ups from your network. Try again in 42 seconds.');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('each operator role signs in with email and password and sees only its own controls', async () => {
    const team = `Otters ${RUN}`;
    const match = await createMatch(team, `Beavers ${RUN}`, { daysAhead: 4 });
    const bettor = await createUser(`Lou ${RUN}`, 5_000);
    const bet = await api('POST', '/v1/bets', { token: bettor.token, body: { user_id: bettor.id, match_id: match.id, selection: '1', stake: 1_000 } });
    assert.equal(bet.status, 201, bet.text);

    for (const role of ['trader', 'support', 'admin']) {
      const operator = await createOperator(`${role} Op ${RUN}`, role);
      const op = await openPage(browser, DESKTOP, '/#operator');
      const statuses = recordStatuses(op.page);
      await signIn(op.page, operator.email, PASSWORD);
      await op.page.getByRole('navigation', { name: 'Operator' }).waitFor();
      assert.deepEqual(await tabNames(op.page), TABS[role], role);
      assert.equal(await op.page.locator('.operator-email').textContent(), operator.email);
      assert.match(await op.page.locator('.operator-who').textContent(), new RegExp(`\\(${role}\\)`));
      const stored = await op.page.evaluate(() => JSON.parse(localStorage.getItem('betsdb.operator')));
      assert.equal(stored.role, role);
      assert.equal(stored.id, operator.id);

      // A sub-page the role may not use falls back to its first one.
      if (NOT_FOR[role]) {
        await op.page.goto(`/#operator/${NOT_FOR[role]}`);
        await op.page.locator('#op-heading', { hasText: TABS[role][0] }).waitFor();
      }

      if (role === 'trader') {
        // The match controls, without the accounts' or the summary's.
        await op.page.getByLabel('Team', { exact: true }).fill(team);
        await op.page.getByRole('button', { name: 'Show' }).click();
        const card = op.page.locator(`li[data-match-id="${match.id}"]`);
        await card.waitFor();
        await card.getByRole('button', { name: 'Exposure', exact: true }).click();
        await card.locator('.exposure-summary', { hasText: '1 pending bet' }).waitFor();
        assert.equal(await card.getByRole('button', { name: 'Suspend' }).count(), 1);
        assert.equal(await card.getByRole('button', { name: 'Enter result' }).count(), 1);
        await screenshot(op.page, '63-operator-trader');
      }
      if (role === 'support') {
        // Look-up only: no crediting. The user, their bets and their ledger.
        await openOperatorTab(op.page, 'Accounts');
        assert.equal(await op.page.getByRole('button', { name: 'Credit' }).count(), 0);
        await op.page.getByLabel('Account number').fill(String(bettor.id));
        await op.page.getByRole('button', { name: 'Look up' }).click();
        await op.page.getByRole('heading', { name: 'Latest bets (1 in all)' }).waitFor();
        await op.page.getByRole('heading', { name: 'Latest ledger entries (2 in all)' }).waitFor();
        assert.deepEqual(await op.page.locator('table.ledger tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.kind)), ['stake', 'deposit']);
        assert.equal(await op.page.locator(`tr[data-bet-id="${bet.json.id}"]`).count(), 1);
        await openOperatorTab(op.page, 'All bets');
        await op.page.locator('tr[data-bet-id]').first().waitFor();
        await screenshot(op.page, '64-operator-support');
      }
      if (role === 'admin') {
        for (const tab of TABS.admin) {
          await op.page.getByRole('link', { name: tab, exact: true }).click();
          await op.page.locator('#op-heading', { hasText: tab }).waitFor();
        }
        await op.page.locator('table.audit, .operator-section .empty').first().waitFor();
      }
      await assertLabelled(op.page);
      // Nothing on the page asked for what the role may not do.
      assert.deepEqual(statuses.filter((s) => /^40[13] /.test(s)), [], role);
      assert.equal(await op.page.locator('[role="alert"]:not([hidden])').filter({ hasText: /\S/ }).count(), 0, role);

      // Signing out ends the operator's session on the server.
      const token = stored.token;
      await op.page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await op.page.locator('form.signin-form').waitFor();
      assert.equal((await api('GET', '/v1/matches?limit=1', { token })).status, 401);
      assert.deepEqual(op.problems, []);
      await op.context.close();
    }
  });

  test('the sign-in forms send each kind of account to its own page', async () => {
    const trader = await createOperator(`Wrong Page Op ${RUN}`, 'trader');
    const name = `Max ${RUN}`;
    assert.equal((await api('POST', '/v1/users', { body: { email: emailFor(name), name, password: PASSWORD } })).status, 201);
    const { context, page, problems } = await openPage(browser, DESKTOP, '/#operator');
    await signIn(page, emailFor(name), PASSWORD);
    const alert = page.locator('form.signin-form').getByRole('alert').filter({ hasText: /\S/ });
    await alert.waitFor();
    assert.equal(await alert.textContent(), 'This is a bettor account. Sign in on the Account page.');
    assert.equal(await page.getByRole('navigation', { name: 'Operator' }).count(), 0);

    await page.goto('/#account/signin');
    await page.locator('#signin-heading').waitFor();
    await signIn(page, trader.email, PASSWORD);
    await alert.waitFor();
    assert.equal(await alert.textContent(), 'This is an operator account. Sign in on the Operator page.');
    assert.equal(await storedUser(page), null);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('an admin operator creates an operator, who then signs in with the new role', async () => {
    const admin = await createOperator(`Head Op ${RUN}`, 'admin');
    const op = await openPage(browser, DESKTOP, '/#operator');
    await signIn(op.page, admin.email, PASSWORD);
    await openOperatorTab(op.page, 'Operators');
    const form = op.page.locator('form:has(#new-operator-heading)');
    const email = emailFor(`New Trader ${RUN}`);

    // Refused in the browser: a password that is too short.
    await form.getByLabel('Operator email').fill(email);
    await form.getByLabel('Operator password').fill('short');
    await form.getByRole('button', { name: 'Create operator' }).click();
    assert.match(await form.locator('[data-field="password"] ~ .field-error').textContent(), /8 to 128 characters/);

    await form.getByLabel('Operator password').fill(PASSWORD);
    await form.getByLabel('Role').selectOption('trader');
    await form.getByRole('button', { name: 'Create operator' }).click();
    const created = form.getByRole('status').filter({ hasText: 'Created operator' });
    await created.waitFor();
    const [, id] = (await created.textContent()).match(/^Created operator #(\d+): (.+) \(trader\)\.$/);
    // Listed with its role, newest first.
    const row = op.page.locator(`tr[data-operator="${id}"]`);
    await row.waitFor();
    assert.deepEqual(await row.locator('td').allTextContents().then((t) => t.slice(0, 2)), [`#${id}`, email]);
    assert.equal(await row.getByLabel(`Role of ${email}`).inputValue(), 'trader');
    assert.equal(await row.locator('.operator-state').textContent(), 'Active');
    await assertLabelled(op.page);
    await screenshot(op.page, '65-operator-created');

    // The same email again (users' and operators' emails are one space).
    await form.getByLabel('Operator email').fill(email.toUpperCase());
    await form.getByLabel('Operator password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Create operator' }).click();
    await form.locator('[data-field="email"] ~ .field-error').waitFor();
    assert.match(await form.locator('[data-field="email"] ~ .field-error').textContent(), /already exists/);

    // The audit log names the admin as the one who created it.
    const audit = await api('GET', `/v1/audit?action=operator.create&actor=operator:${admin.id}`, { token: config().adminToken });
    assert.equal(audit.status, 200, audit.text);
    assert.deepEqual(audit.json.items.map((e) => [e.target, e.details.email, e.details.role]), [[`operator:${id}`, email, 'trader']]);

    const trader = await openPage(browser, DESKTOP, '/#operator');
    await signIn(trader.page, email, PASSWORD);
    await trader.page.getByRole('navigation', { name: 'Operator' }).waitFor();
    assert.deepEqual(await tabNames(trader.page), TABS.trader);
    assert.deepEqual(op.problems, []);
    assert.deepEqual(trader.problems, []);
    await op.context.close();
    await trader.context.close();
  });

  test('an admin disables an operator (its token stops working at once, it cannot sign in), enables it, and changes its role', async () => {
    const admin = await createOperator(`Keeper ${RUN}`, 'admin');
    const leaving = await createOperator(`Leaving Trader ${RUN}`, 'trader');
    const theirs = await openPage(browser, DESKTOP, '/#operator');
    await signIn(theirs.page, leaving.email, PASSWORD);
    await theirs.page.getByRole('navigation', { name: 'Operator' }).waitFor();
    const theirToken = await theirs.page.evaluate(() => JSON.parse(localStorage.getItem('betsdb.operator')).token);

    const op = await openPage(browser, DESKTOP, '/#operator');
    await signIn(op.page, admin.email, PASSWORD);
    await openOperatorTab(op.page, 'Operators');
    const row = op.page.locator(`tr[data-operator="${leaving.id}"]`);
    await row.waitFor();
    const list = op.page.locator('section[aria-labelledby="operators-heading"]');

    // Disable: asked first, with what it does; Cancel changes nothing.
    await row.getByRole('button', { name: 'Disable' }).click();
    const dialog = op.page.getByRole('alertdialog', { name: `Disable ${leaving.email} (#${leaving.id})?` });
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /Their sessions end at once/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await api('GET', `/v1/matches/999999999/exposure`, { token: theirToken })).status, 404);
    await row.getByRole('button', { name: 'Disable' }).click();
    await dialog.getByRole('button', { name: 'Disable' }).click();
    await list.getByRole('status').filter({ hasText: `${leaving.email} is disabled. Their sessions have ended.` }).waitFor();
    const disabledRow = op.page.locator(`tr[data-operator="${leaving.id}"]`);
    await disabledRow.getByRole('button', { name: 'Enable' }).waitFor();
    assert.match(await disabledRow.locator('.operator-state').textContent(), /^Disabled /);
    // The list was redrawn: the focus is back on the row, not lost.
    assert.equal(await op.page.evaluate(() => document.activeElement?.closest('tr')?.dataset.operator), String(leaving.id));
    await screenshot(op.page, '66-operator-disabled');

    // Their session is over at once, and their password no longer signs in.
    assert.equal((await api('GET', `/v1/matches/999999999/exposure`, { token: theirToken })).status, 401);
    const again = await openPage(browser, DESKTOP, '/#operator');
    await signIn(again.page, leaving.email, PASSWORD);
    await again.page.getByRole('alert').filter({ hasText: 'That email and password do not match an account.' }).waitFor();

    // Enabled again: they sign in afresh.
    await disabledRow.getByRole('button', { name: 'Enable' }).click();
    await op.page.getByRole('alertdialog', { name: `Enable ${leaving.email} (#${leaving.id})?` }).getByRole('button', { name: 'Enable' }).click();
    await list.getByRole('status').filter({ hasText: `${leaving.email} is now trader.` }).waitFor();
    await signIn(again.page, leaving.email, PASSWORD);
    await again.page.getByRole('navigation', { name: 'Operator' }).waitFor();
    assert.deepEqual(await tabNames(again.page), TABS.trader);

    // A new role: "Change role" only once another is chosen; it ends their sessions too.
    const enabledRow = op.page.locator(`tr[data-operator="${leaving.id}"]`);
    const changeRole = enabledRow.getByRole('button', { name: 'Change role' });
    assert.equal(await changeRole.isDisabled(), true);
    await enabledRow.getByLabel(`Role of ${leaving.email}`).selectOption('support');
    await changeRole.click();
    await op.page.getByRole('alertdialog', { name: `Make ${leaving.email} (#${leaving.id}) support?` }).getByRole('button', { name: 'Change role' }).click();
    await list.getByRole('status').filter({ hasText: `${leaving.email} is now support. Their sessions have ended.` }).waitFor();
    // The session the trader signed in with after the enable is over too.
    const traderToken = await again.page.evaluate(() => JSON.parse(localStorage.getItem('betsdb.operator')).token);
    assert.equal((await api('GET', `/v1/matches/999999999/exposure`, { token: traderToken })).status, 401);
    const session = await sessionFor(leaving.email);
    assert.equal(session.role, 'support');
    const audit = await api('GET', `/v1/audit?action=operator.update&actor=operator:${admin.id}`, { token: config().adminToken });
    assert.equal(audit.status, 200, audit.text);
    assert.deepEqual(audit.json.items.map((e) => [e.details.role, e.details.disabled]).reverse(), [['trader', true], ['trader', false], ['support', false]]);
    await assertLabelled(op.page);

    assert.deepEqual(op.problems, []);
    for (const page of [theirs, again, op]) await page.context.close();
  });

  test('a bettor changes their password: a wrong current one is shown at its field, the other sign-ins end', async () => {
    const name = `Petra ${RUN}`;
    const email = emailFor(name);
    const made = await api('POST', '/v1/users', { body: { email, name, password: PASSWORD } });
    assert.equal(made.status, 201, made.text);
    const elsewhere = await sessionFor(email);
    const { context, page, problems } = await openPage(browser, PHONE, '/#account/signin');
    await signIn(page, email, PASSWORD);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    const here = (await storedUser(page)).token;
    const form = page.locator('form.password-form');
    const NEW = 'a brand new passphrase';

    // Checked in the browser first: the two new passwords must agree.
    await form.getByLabel('Current password').fill(PASSWORD);
    await form.getByLabel('New password', { exact: true }).fill(NEW);
    await form.getByLabel('New password again').fill(`${NEW}!`);
    await form.getByRole('button', { name: 'Change password' }).click();
    assert.match(await form.locator('[data-field="new_password_again"] ~ .field-error').textContent(), /differ/);

    // A wrong current password: said at its field, nothing changed.
    await form.getByLabel('Current password').fill('not the password');
    await form.getByLabel('New password again').fill(NEW);
    await form.getByRole('button', { name: 'Change password' }).click();
    await form.locator('[data-field="current_password"] ~ .field-error').waitFor();
    assert.equal(await form.locator('[data-field="current_password"] ~ .field-error').textContent(), 'This is not your current password.');
    assert.equal((await api('GET', `/v1/users/${made.json.id}`, { token: elsewhere.token })).status, 200);

    await form.getByLabel('Current password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Change password' }).click();
    await form.getByRole('status').filter({ hasText: 'Password changed. Your other sign-ins have ended.' }).waitFor();
    assert.equal(await form.getByLabel('New password', { exact: true }).inputValue(), '');
    await assertLabelled(page);
    await assertFitsWidth(page);
    await screenshot(page, '67-password-changed-phone');

    // This page's session stays; the other ended; only the new password signs in.
    assert.equal((await api('GET', `/v1/users/${made.json.id}`, { token: here })).status, 200);
    assert.equal((await api('GET', `/v1/users/${made.json.id}`, { token: elsewhere.token })).status, 401);
    assert.equal((await api('POST', '/v1/sessions', { body: { email, password: PASSWORD } })).status, 401);
    await sessionFor(email, NEW);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('an operator changes their own password, and an admin resets another operator\'s', async () => {
    const admin = await createOperator(`Reset Admin ${RUN}`, 'admin');
    const trader = await createOperator(`Forgetful Trader ${RUN}`, 'trader');
    const theirs = await openPage(browser, DESKTOP, '/#operator');
    await signIn(theirs.page, trader.email, PASSWORD);
    await theirs.page.getByRole('navigation', { name: 'Operator' }).waitFor();
    const otherSession = await sessionFor(trader.email);

    // Their own change, with the current password.
    await theirs.page.getByText('Change your password').click();
    const form = theirs.page.locator('form.password-form');
    const OWN = 'the trader own new password';
    await form.getByLabel('Current password').fill(PASSWORD);
    await form.getByLabel('New password', { exact: true }).fill(OWN);
    await form.getByLabel('New password again').fill(OWN);
    await form.getByRole('button', { name: 'Change password' }).click();
    await form.getByRole('status').filter({ hasText: 'Password changed.' }).waitFor();
    const theirToken = await theirs.page.evaluate(() => JSON.parse(localStorage.getItem('betsdb.operator')).token);
    assert.equal((await api('GET', '/v1/matches/999999999/exposure', { token: theirToken })).status, 404);
    assert.equal((await api('GET', '/v1/matches/999999999/exposure', { token: otherSession.token })).status, 401);
    await sessionFor(trader.email, OWN);

    // The admin resets it: asked first, with the new password in the dialog.
    const op = await openPage(browser, DESKTOP, '/#operator');
    await signIn(op.page, admin.email, PASSWORD);
    await openOperatorTab(op.page, 'Operators');
    const row = op.page.locator(`tr[data-operator="${trader.id}"]`);
    await row.getByRole('button', { name: 'Reset password' }).click();
    const dialog = op.page.getByRole('alertdialog', { name: `Reset the password of ${trader.email} (#${trader.id})?` });
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /Every session of theirs ends at once/);
    const RESET = 'handed over out of band';
    await dialog.getByLabel('New password').fill(RESET);
    await assertLabelled(op.page);
    await screenshot(op.page, '68-operator-password-reset');
    await dialog.getByRole('button', { name: 'Reset password' }).click();
    const list = op.page.locator('section[aria-labelledby="operators-heading"]');
    await list.getByRole('status').filter({ hasText: `The password of ${trader.email} was reset. Their sessions have ended.` }).waitFor();
    // An admin has no "Reset password" on its own row: its own goes by "Change your password".
    assert.equal(await op.page.locator(`tr[data-operator="${admin.id}"]`).getByRole('button', { name: 'Reset password' }).count(), 0);

    assert.equal((await api('GET', '/v1/matches/999999999/exposure', { token: theirToken })).status, 401);
    assert.equal((await api('POST', '/v1/sessions', { body: { email: trader.email, password: OWN } })).status, 401);
    await sessionFor(trader.email, RESET);
    const audit = await api('GET', `/v1/audit?action=operator.password&limit=100`, { token: config().adminToken });
    assert.equal(audit.status, 200, audit.text);
    const actors = audit.json.items.filter((e) => e.target === `operator:${trader.id}`).map((e) => e.actor);
    assert.deepEqual(actors, [`operator:${admin.id}`, `operator:${trader.id}`]);
    assert.deepEqual(theirs.problems, []);
    assert.deepEqual(op.problems, []);
    for (const page of [theirs, op]) await page.context.close();
  });

  test('the audit log lists entries newest first, filters by actor and action, and pages', async () => {
    const trader = await createOperator(`Audit Op ${RUN}`, 'trader');
    const { token } = await sessionFor(trader.email);
    const actor = `operator:${trader.id}`;
    const date = new Date(Date.now() + 9 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const matches = [];
    for (let i = 0; i < 22; i += 1) {
      const res = await api('POST', '/v1/matches', { token, body: { team_1: `Audit ${i} ${RUN}`, team_2: `Rivals ${RUN}`, date, odds: { 1: 2, X: 3, 2: 4 } } });
      assert.equal(res.status, 201, res.text);
      matches.push(res.json);
    }
    const suspended = await api('POST', `/v1/matches/${matches[3].id}/suspend`, { token, body: {} });
    assert.equal(suspended.status, 200, suspended.text);

    // Not seen by the trader: no tab, and the server says no.
    assert.equal((await api('GET', '/v1/audit', { token })).status, 403);

    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await openOperatorTab(op.page, 'Audit log');
    await op.page.locator('table.audit tbody tr').first().waitFor();

    // An actor that is neither "owner" nor an operator: refused in the browser.
    await op.page.getByLabel('Actor').fill('nobody');
    await op.page.getByRole('button', { name: 'Show' }).click();
    assert.match(await op.page.locator('[data-field="actor"] ~ .field-error').textContent(), /owner/);

    // The trader's entries: 23, newest first, 20 a page.
    await op.page.getByLabel('Actor').fill(`#${trader.id}`);
    await op.page.getByRole('button', { name: 'Show' }).click();
    const pager = op.page.getByRole('navigation', { name: 'Audit log pages' });
    await pager.locator('.pager-info', { hasText: '1–20 of 23' }).waitFor();
    const rows = op.page.locator('table.audit tbody tr');
    assert.deepEqual(new Set(await rows.locator('td.actor').allTextContents()), new Set([actor]));
    assert.equal(await rows.first().locator('td.action').textContent(), 'match.suspend');
    assert.equal(await rows.first().locator('td.target').textContent(), `match:${matches[3].id}`);
    assert.equal(await rows.nth(1).locator('td.target').textContent(), `match:${matches[21].id}`);
    assert.match(await rows.nth(1).locator('td.details-text').textContent(), new RegExp(`team_1: Audit 21 ${RUN}`));
    await assertLabelled(op.page);
    await screenshot(op.page, '66-audit-log');
    await pager.getByRole('button', { name: 'Next' }).click();
    await pager.locator('.pager-info', { hasText: '21–23 of 23' }).waitFor();
    assert.deepEqual(await rows.locator('td.target').allTextContents(), [2, 1, 0].map((i) => `match:${matches[i].id}`));

    // And one action of theirs.
    await op.page.getByLabel('Action').selectOption('match.suspend');
    await op.page.waitForFunction(() => document.querySelectorAll('table.audit tbody tr').length === 1);
    assert.deepEqual(await rows.locator('td.action').allTextContents(), ['match.suspend']);
    assert.deepEqual(await rows.locator('td.details-text').allTextContents(), ['–']);
    assert.equal(await pager.isHidden(), true);
    assert.deepEqual(op.problems, []);
    await op.context.close();
  });
});
