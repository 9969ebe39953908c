// The web UI with what every server has today: static files, sign-up,
// matches, the operator's match forms and the fixture import.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DESKTOP, PHONE, RUN, api, assertFitsWidth, assertLabelled, config, createMatch, launch, openPage, operatorSignIn, screenshot, showTeam,
  showTeamToOperator, signUp, openOperatorTab
} from './support.mjs';

describe('web UI', () => {
  let browser;
  before(async () => {
    config();
    browser = await launch();
  });
  after(async () => browser?.close());

  test('serves the app at / with the right content types and no-cache', async () => {
    const expectations = [
      ['/', 'text/html'],
      ['/app.js', 'text/javascript'],
      ['/js/api.js', 'text/javascript'],
      ['/js/views/cart.js', 'text/javascript'],
      ['/style.css', 'text/css'],
      ['/favicon.svg', 'image/svg+xml'],
      ['/fixtures/index.json', 'application/json'],
    ];
    for (const [path, type] of expectations) {
      const res = await api('GET', path);
      assert.equal(res.status, 200, path);
      assert.ok(res.headers.get('content-type').startsWith(type), `${path}: ${res.headers.get('content-type')}`);
      assert.equal(res.headers.get('cache-control'), 'no-cache', path);
    }
    const index = await api('GET', '/');
    assert.match(index.text, /<script type="module" src="\/app.js">/);
    assert.match(index.headers.get('content-security-policy'), /default-src 'self'/);
    const fixtures = (await api('GET', '/fixtures/index.json')).json.fixtures;
    assert.ok(fixtures.some((f) => f.path === '/fixtures/premier-league-2025-26-md1-3.json'), JSON.stringify(fixtures));
    assert.equal((await api('GET', '/no-such-file.js')).status, 404);
  });

  test('money and fixture helpers compute exactly', async () => {
    const { context, page, problems } = await openPage(browser, DESKTOP);
    const out = await page.evaluate(async () => {
      const money = await import('/js/money.js');
      const football = await import('/js/openfootball.js');
      const season = football.parseSeason({
        name: 'Test',
        matches: [
          { date: '2025-08-15', time: '20:00', team1: 'A', team2: 'B', score: { ft: [4, 2] } },
          { date: '2025-08-16', team1: 'C', team2: 'D', score: { ft: [1, 1] } },
          { date: '2025-08-17', time: '12:30', team1: 'B', team2: 'C', score: {} },
          { date: 'soon', team1: 'E', team2: 'F' },
        ],
      });
      const shift = football.shiftDaysFor(season.fixtures, new Date('2026-01-01T00:00:00Z'));
      const plan = football.planImport(season, { shiftDays: shift });
      return {
        formatted: [money.formatMoney(1050), money.formatMoney(5), money.formatMoney(-250), money.formatMoney(0)],
        parsed: [money.parseMoney('10.5'), money.parseMoney('10,50'), money.parseMoney('0.07'), money.parseMoney('1.234'), money.parseMoney('-1'), money.parseMoney('abc')],
        payouts: [money.potentialPayout(1000, 2.1), money.potentialPayout(333, 1.01), money.potentialPayout(100_000_000, 1000)],
        odds: [money.formatOdds(2.1), money.parseOdds('2.10'), money.parseOdds('2.105')],
        results: season.fixtures.map((f) => f.result),
        skipped: season.skipped.length,
        shift,
        firstDate: plan[0].date,
        secondDate: plan[1].date,
        oddsInRange: plan.every((m) => Object.values(m.odds).every((o) => o >= 1.01 && o <= 1000 && Math.round(o * 100) === o * 100)),
      };
    });
    assert.deepEqual(out.formatted, ['10.50', '0.05', '-2.50', '0.00']);
    assert.deepEqual(out.parsed, [1050, 1050, 7, null, null, null]);
    assert.deepEqual(out.payouts, [2100, 336, 100_000_000_000]);
    assert.deepEqual(out.odds, ['2.10', 2.1, null]);
    assert.deepEqual(out.results, ['1', 'X', null]);
    assert.equal(out.skipped, 1);
    assert.equal(out.shift, 140); // 2025-08-15T20:00 + 140 days = 2026-01-02T20:00, at least a day ahead
    assert.equal(out.firstDate, '2026-01-02T20:00:00Z');
    assert.equal(out.secondDate, '2026-01-03T15:00:00Z'); // no time in the file: 15:00
    assert.ok(out.oddsInRange);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a bettor signs up on a phone; the token is shown once and kept in the browser', async () => {
    const { context, page, problems } = await openPage(browser, PHONE, '/#account');
    const me = await signUp(page, `Ann ${RUN}`);
    assert.ok(me.id > 0);
    const token = await page.getByLabel('Your token').inputValue();
    assert.ok(token.length >= 20, 'a token is shown');
    assert.equal(await page.locator('#balance').textContent(), '€0.00');
    await assertFitsWidth(page);
    await assertLabelled(page);
    await screenshot(page, '01-signup-phone');

    // The token works against the API and is what the browser keeps.
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('betsdb.user')));
    assert.equal(stored.token, token);
    assert.equal((await api('GET', `/v1/users/${me.id}`, { token })).json.email, me.email);

    // After a reload: still signed in, the token is not shown again.
    await page.reload();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    assert.equal(await page.getByLabel('Your token').count(), 0);
    assert.equal((await page.locator('#who .who-name').textContent()).trim(), me.name);

    // Signing up again with the same email: the message sits next to the email field.
    await page.getByRole('button', { name: 'Sign out on this device' }).click();
    await page.getByLabel('Email').fill(me.email.toUpperCase());
    await page.getByLabel('Name').fill('Someone');
    await page.getByRole('button', { name: 'Sign up' }).click();
    const note = page.locator('form:has(#signup-heading) .field-error');
    await note.waitFor();
    assert.match(await note.textContent(), /already exists/);
    assert.equal(await page.getByLabel('Email').getAttribute('aria-invalid'), 'true');
    await screenshot(page, '02-signup-email-taken');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('the operator creates a match and changes its odds; bettors see it, sorted by date and filtered by team', async () => {
    const home = `Lions ${RUN}`;
    const away = `Tigers ${RUN}`;
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await openOperatorTab(op.page, 'New match');

    // A validation error from the API appears next to its field.
    await op.page.getByLabel('Team 1 (home)').fill(home);
    await op.page.getByLabel('Team 2 (away)').fill(home.toUpperCase());
    await op.page.getByLabel(/^1/).fill('2.10');
    await op.page.getByRole('button', { name: 'Create match' }).click();
    const teamError = op.page.locator('[data-field="team_2"] + .field-error');
    await teamError.waitFor();
    assert.match(await teamError.textContent(), /differ/);

    await op.page.getByLabel('Team 2 (away)').fill(away);
    await op.page.getByLabel(/^X/).fill('3.3');
    await op.page.getByLabel(/^2/).fill('2.105');
    await op.page.getByRole('button', { name: 'Create match' }).click();
    assert.match(await op.page.locator('[data-field="odds.2"] + .field-error').textContent(), /two decimals/);
    await op.page.getByLabel(/^2/).fill('3.75');
    await op.page.getByRole('button', { name: 'Create match' }).click();
    const created = op.page.getByRole('status').filter({ hasText: 'Created match' });
    await created.waitFor();
    const id = Number((await created.textContent()).match(/#(\d+)/)[1]);
    await assertLabelled(op.page);
    await screenshot(op.page, '03-operator-new-match');

    // Change the draw odds and withdraw the away win from the list.
    await showTeamToOperator(op.page, home);
    const card = op.page.locator(`li[data-match-id="${id}"]`);
    await card.getByLabel(/^X/).fill('3.40');
    await card.getByLabel(/^2/).fill('');
    await card.getByRole('button', { name: 'Save odds' }).click();
    await card.getByText('Odds saved.').waitFor();
    assert.deepEqual((await api('GET', `/v1/matches/${id}`)).json.odds, { 1: 2.1, X: 3.4 });
    await assertLabelled(op.page);
    await screenshot(op.page, '04-operator-matches');

    // A later match of the same team (the form's default kick-off is
    // tomorrow): the bettor's list is sorted by date, soonest first.
    const later = await createMatch(`Bears ${RUN}`, home, { daysAhead: 5 });

    const bettor = await openPage(browser, PHONE, '/#matches');
    await showTeam(bettor.page, home.toLowerCase());
    const cards = bettor.page.locator('li.match');
    assert.equal(await cards.count(), 2);
    assert.equal(await cards.nth(0).getAttribute('data-match-id'), String(id));
    assert.equal(await cards.nth(1).getAttribute('data-match-id'), String(later.id));
    const buttons = cards.nth(0).getByRole('button');
    assert.deepEqual(await buttons.allInnerTexts().then((t) => t.map((s) => s.replace(/\s+/g, ' ').trim())), [`${home} 2.10`, 'Draw 3.40']);
    // Without an account, a tap explains what to do, next to the match.
    await buttons.first().click();
    assert.match(await cards.nth(0).getByRole('alert').textContent(), /Sign up/);
    await assertFitsWidth(bettor.page);
    await assertLabelled(bettor.page);
    await screenshot(bettor.page, '05-matches-phone');
    assert.deepEqual(op.problems, []);
    assert.deepEqual(bettor.problems, []);
    await op.context.close();
    await bettor.context.close();
  });

  test('the operator imports the bundled season file with dates moved into the future', async () => {
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await openOperatorTab(op.page, 'Import fixtures');
    await op.page.getByLabel('Bundled demo file').selectOption({ label: 'English Premier League 2025/26 (matchdays 1-3)' });
    await op.page.getByRole('button', { name: 'Load', exact: true }).click();
    await op.page.locator('.preview-line').waitFor();
    assert.match(await op.page.locator('.preview-line').textContent(), /30 matches, 30 with a result/);
    assert.ok(await op.page.getByLabel(/Move the dates into the future/).isChecked());
    await op.page.getByRole('button', { name: 'Import 30 matches' }).click();
    const done = op.page.getByRole('status').filter({ hasText: 'Import finished' });
    await done.waitFor({ timeout: 60_000 });
    const [, created, existing, failed] = (await done.textContent()).match(/(\d+) created, (\d+) already there, (\d+) failed/).map(Number);
    assert.equal(failed, 0);
    assert.equal(created + existing, 30);
    assert.equal(await op.page.getByLabel('Import progress').getAttribute('value'), '30');
    await assertLabelled(op.page);
    await screenshot(op.page, '06-operator-import');

    // The imported matches are in the future, with odds. (Not asserted open:
    // a rerun on the same day against the same database finds them settled.)
    const list = await api('GET', `/v1/matches?team=${encodeURIComponent('Liverpool FC')}&from=${new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')}`);
    assert.equal(list.status, 200);
    assert.ok(list.json.items.some((m) => m.team_1 === 'Liverpool FC' && m.team_2 === 'AFC Bournemouth' && m.odds['1'] > 1), list.text);
    assert.deepEqual(op.problems, []);
    await op.context.close();
  });

  test('a file from the device is read too, and a file of the wrong shape is refused with a message', async () => {
    const op = await openPage(browser, DESKTOP, '/#operator');
    await operatorSignIn(op.page);
    await openOperatorTab(op.page, 'Import fixtures');
    await op.page.getByLabel('Or a file from this device').setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"rounds": []}') });
    assert.match(await op.page.getByRole('alert').filter({ hasText: 'openfootball' }).textContent(), /no "matches" list/);
    const { FIXTURE_FILE } = await import('./support.mjs');
    await op.page.getByLabel('Or a file from this device').setInputFiles(FIXTURE_FILE);
    assert.match(await op.page.locator('.preview-line').textContent(), /premier-league-2025-26-md1-3\.json\): 30 matches/);
    assert.deepEqual(op.problems, []);
    await op.context.close();
  });
});
