// WCAG 2.2 AA across the web UI (issue 23): axe-core on every page, in the
// light and the dark theme (the UI follows prefers-color-scheme), on a
// desktop and on a phone, with no serious or critical violation; and the
// checks axe leaves to a person: a focus ring of at least 3:1 against
// whatever it is drawn on (the green header too), form-control borders of
// at least 3:1, and touch targets of at least 44 x 44 px.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { DESKTOP, PHONE, RUN, api, config, createMatch, createUser, launch, openPage, screenshot } from './support.mjs';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const THEMES = ['light', 'dark'];
const DEVICES = { desktop: DESKTOP, phone: PHONE };
// The page background of each theme (style.css --bg), to prove the theme applied.
const PAGE_BG = { light: 'rgb(246, 247, 245)', dark: 'rgb(18, 22, 20)' };
const MIN_TARGET = 44;

async function admin(method, path, body) {
  const res = await api(method, path, { token: config().adminToken, body });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

// The operator's list filtered by `team`, and the card of match `id` from
// that answer (not from the list shown before).
async function showMatch(page, team, id) {
  await page.evaluate(() => {
    for (const li of document.querySelectorAll('li.admin-match')) li.dataset.stale = 'true';
  });
  await page.getByLabel('Team', { exact: true }).fill(team);
  await page.getByRole('button', { name: 'Show' }).click();
  const card = page.locator(`li[data-match-id="${id}"]:not([data-stale])`);
  await card.waitFor();
  return card;
}

// Every page of the UI, each with what shows it is ready. `who`: the
// browser is signed in as nobody, the bettor, or the operator (the owner's
// admin token); `then` opens what a page only shows after a click.
function pages(data) {
  const team = data.team;
  return [
    { who: 'nobody', path: '/#matches', ready: 'li.match' },
    { who: 'nobody', path: '/#account', ready: '#signup-heading' },
    { who: 'nobody', path: '/#account/signin', ready: 'form.signin-form' },
    { who: 'nobody', path: '/#cart', ready: 'main .notice' },
    { who: 'nobody', path: '/#operator', ready: '#admin-token-heading' },
    { who: 'bettor', path: '/#matches', ready: 'li.match' },
    { who: 'bettor', path: '/#cart', ready: 'li.cart-item' },
    { who: 'bettor', path: '/#bets', ready: 'main table tbody tr' },
    { who: 'bettor', path: `/#bets/${data.betId}`, ready: 'main table tbody tr' },
    { who: 'bettor', path: '/#ledger', ready: 'main table tbody tr' },
    { who: 'bettor', path: '/#account', ready: '.limits-now table, .limits-now .limits-summary' },
    {
      who: 'operator',
      path: '/#operator/matches',
      ready: 'li.admin-match',
      then: async (page) => {
        const card = await showMatch(page, team, data.match.id);
        await card.getByRole('button', { name: 'Exposure', exact: true }).click();
        await card.locator('.exposure figure.chart').waitFor();
      },
    },
    {
      who: 'operator',
      path: '/#operator/matches',
      ready: 'li.admin-match',
      name: 'settle confirmation',
      then: async (page) => {
        const card = await showMatch(page, team, data.match.id);
        await card.getByLabel(/^Result/).selectOption('1');
        await card.getByRole('button', { name: 'Enter result' }).click();
        await page.getByRole('alertdialog').locator('.settle-figures').waitFor();
      },
    },
    { who: 'operator', path: '/#operator/new', ready: 'form[aria-label="New match"]' },
    { who: 'operator', path: '/#operator/import', ready: 'select[name="bundled"] option[value^="/fixtures/"]', state: 'attached' },
    {
      who: 'operator',
      path: '/#operator/accounts',
      ready: '#credit-heading',
      then: async (page) => {
        await page.getByLabel('Email or name').fill(data.bettor.name);
        await page.getByRole('button', { name: 'Find', exact: true }).click();
        await page.locator(`tr[data-user-id="${data.bettor.id}"]`).waitFor();
        const credit = page.locator('form:has(#credit-heading)');
        await credit.getByLabel('Account number').fill(String(data.bettor.id));
        await credit.locator('.recipient-name').waitFor();
        const lookup = page.locator('form:has(#lookup-heading)');
        await lookup.getByLabel('Account number').fill(String(data.bettor.id));
        await lookup.getByRole('button', { name: 'Look up', exact: true }).click();
        await lookup.locator('table.ledger').waitFor();
      },
    },
    { who: 'operator', path: '/#operator/summary', ready: 'figure.by-status' },
    { who: 'operator', path: '/#operator/bets', ready: 'td.bet-user .user-name, td.bet-user .muted' },
    { who: 'operator', path: '/#operator/operators', ready: 'table.operators, .operator-section .empty' },
    { who: 'operator', path: '/#operator/audit', ready: 'table.audit, .operator-section .empty' },
  ];
}

// A browser page in `theme` at `device`, signed in as `who`. It starts on
// a file of the site that runs no script (the app then reads who is signed
// in when it first starts, on the first show()).
async function open(browser, device, theme, who, data) {
  const opened = await openPage(browser, device, '/favicon.svg');
  await opened.page.emulateMedia({ colorScheme: theme });
  await opened.page.evaluate(
    ([who, bettor, adminToken]) => {
      localStorage.clear();
      if (who === 'bettor') localStorage.setItem('betsdb.user', JSON.stringify({ id: bettor.id, token: bettor.token, name: bettor.name, email: bettor.email, kind: 'token' }));
      if (who === 'operator') localStorage.setItem('betsdb.adminToken', JSON.stringify(adminToken));
    },
    [who, data.bettor, config().adminToken],
  );
  return opened;
}

// Shows `spec` and waits until it is complete: its marker is there, nothing
// is loading.
async function show(page, spec) {
  await page.goto(spec.path);
  await page.locator(spec.ready).first().waitFor({ state: spec.state ?? 'visible' });
  if (spec.then) await spec.then(page);
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]') && !/Loading…/.test(document.querySelector('main')?.textContent ?? ''));
}

// axe-core's serious and critical violations on the page as it is now.
async function axeViolations(page) {
  // What waits for the next frame (e.g. a wide table made focusable) first.
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1, 2).join(' ').trim()}`) }));
  });
}

// In the page: WCAG contrast of two colours, and the colour actually behind
// an element (its ancestors' backgrounds, blended). Installed once per page.
async function installColourHelpers(page) {
  await page.evaluate(() => {
    if (window.__a11y) return;
    const parse = (text) => {
      const m = text.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const over = (top, bottom) => ({ r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a), b: top.b * top.a + bottom.b * (1 - top.a), a: 1 });
    // The opaque colour painted behind `el` (its first ancestor's, blended).
    const behind = (el) => {
      const layers = [];
      for (let node = el; node; node = node.parentElement) {
        const c = parse(getComputedStyle(node).backgroundColor);
        if (c && c.a > 0) layers.push(c);
        if (c && c.a >= 1) break;
      }
      let colour = { r: 255, g: 255, b: 255, a: 1 };
      for (const layer of layers.reverse()) colour = over(layer, colour);
      return colour;
    };
    const luminance = ({ r, g, b }) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const contrast = (a, b) => {
      const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
      return (x + 0.05) / (y + 0.05);
    };
    const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''} "${(el.getAttribute('aria-label') || el.textContent || el.name || '').trim().slice(0, 30)}"`;
    window.__a11y = { parse, behind, contrast, describe };
  });
}

// Tabs through the page from the top; for every element that takes the
// focus, the ring's width and its contrast with what it is drawn on.
async function focusRingProblems(page, steps = 60) {
  await installColourHelpers(page);
  await page.evaluate(() => {
    document.activeElement?.blur();
    window.scrollTo(0, 0);
  });
  await page.locator('body').focus().catch(() => {});
  const problems = [];
  const seen = new Set();
  for (let i = 0; i < steps; i++) {
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const { behind, contrast, describe, parse } = window.__a11y;
      const style = getComputedStyle(el);
      const colour = parse(style.outlineColor);
      const width = parseFloat(style.outlineWidth);
      // A ring drawn inside the element (negative offset) lies on its own
      // background; otherwise on what is around it.
      const inside = parseFloat(style.outlineOffset) + width <= 0;
      const background = inside ? behind(el) : behind(el.parentElement);
      return {
        what: describe(el),
        style: style.outlineStyle,
        width,
        ratio: colour ? Math.round(contrast(colour, background) * 100) / 100 : 0,
      };
    });
    if (!ring) continue;
    if (seen.has(ring.what)) break; // round the page and back
    seen.add(ring.what);
    if (ring.style === 'none' || ring.width < 2 || ring.ratio < 3) problems.push(`${ring.what}: ${ring.style} ${ring.width}px, ${ring.ratio}:1`);
  }
  assert.ok(seen.size >= 8, `only ${seen.size} elements took the focus`);
  return problems;
}

// Inputs and selects whose border is under 3:1 against the background
// around them or their own.
async function borderProblems(page) {
  await installColourHelpers(page);
  return page.evaluate(() => {
    const { behind, contrast, describe, parse } = window.__a11y;
    const out = [];
    for (const el of document.querySelectorAll('input:not([type="checkbox"]):not([type="radio"]):not([type="file"]):not([type="hidden"]), select, textarea')) {
      const box = el.getBoundingClientRect();
      if (!box.width || !box.height) continue;
      const style = getComputedStyle(el);
      const border = parse(style.borderTopColor);
      const around = Math.min(contrast(border, behind(el.parentElement)), contrast(border, behind(el)));
      if (parseFloat(style.borderTopWidth) < 1 || around < 3) out.push(`${describe(el)}: ${Math.round(around * 100) / 100}:1`);
    }
    return out;
  });
}

// Interactive elements smaller than 44 x 44 px. A link inside a sentence is
// exempt (WCAG 2.5.5/2.5.8's inline exception); a checkbox or radio counts
// with its label, which toggles it too.
async function targetProblems(page) {
  return page.evaluate((min) => {
    const out = [];
    const visible = (el) => {
      const box = el.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0 && getComputedStyle(el).visibility !== 'hidden';
    };
    const inSentence = (el) => {
      if (getComputedStyle(el).display !== 'inline') return false;
      const block = el.parentElement;
      return block && block.textContent.trim().length > el.textContent.trim().length + 3;
    };
    const name = (el) => `${el.tagName.toLowerCase()} "${(el.getAttribute('aria-label') || el.textContent || el.name || el.type || '').trim().slice(0, 30)}"`;
    for (const el of document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex="0"]')) {
      if (el.type === 'hidden' || !visible(el) || el.classList.contains('skip-link')) continue;
      if (el.tagName === 'A' && inSentence(el)) continue;
      let box = el.getBoundingClientRect();
      if (el.type === 'checkbox' || el.type === 'radio') {
        const label = el.labels?.[0];
        if (!label) {
          out.push(`${name(el)}: no label`);
          continue;
        }
        const l = label.getBoundingClientRect();
        const left = Math.min(box.left, l.left);
        const top = Math.min(box.top, l.top);
        box = { width: Math.max(box.right, l.right) - left, height: Math.max(box.bottom, l.bottom) - top };
      }
      if (box.width < min - 0.5 || box.height < min - 0.5) out.push(`${name(el)}: ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
    return out;
  }, MIN_TARGET);
}

describe('accessibility (WCAG 2.2 AA)', () => {
  let browser;
  const data = {};
  before(async () => {
    config();
    browser = await launch();
    // Something on every page: a match with a pending bet and a cart item, a
    // settled bet, ledger entries.
    data.team = `Access ${RUN}`;
    data.match = await createMatch(data.team, `Ability ${RUN}`, { daysAhead: 3 });
    const other = await createMatch(`Ability ${RUN}`, data.team, { daysAhead: 4 });
    const settled = await createMatch(`Contrast ${RUN}`, data.team, { daysAhead: 5 });
    const name = `Alex Access ${RUN}`;
    const user = await createUser(name, 10_000);
    data.bettor = { ...user, name };
    for (const [match, selection] of [[data.match, '1'], [settled, 'X']]) {
      const res = await api('POST', '/v1/bets', { token: user.token, body: { user_id: user.id, match_id: match.id, selection, stake: 500 } });
      assert.equal(res.status, 201, res.text);
      data.betId ??= res.json.id;
    }
    await admin('POST', `/v1/matches/${settled.id}/result`, { result: 'X' });
    const item = await api('POST', `/v1/users/${user.id}/cart/items`, { token: user.token, body: { match_id: other.id, selection: '2', stake: 300 } });
    assert.equal(item.status, 201, item.text);
  });
  after(async () => browser?.close());

  for (const [deviceName, device] of Object.entries(DEVICES)) {
    for (const theme of THEMES) {
      test(`axe finds no serious or critical violation on any page: ${deviceName}, ${theme} theme`, async () => {
        const found = [];
        let checked = 0;
        for (const who of ['nobody', 'bettor', 'operator']) {
          const { context, page, problems } = await open(browser, device, theme, who, data);
          for (const spec of pages(data).filter((p) => p.who === who)) {
            await show(page, spec);
            assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor === 'rgba(0, 0, 0, 0)' ? getComputedStyle(document.documentElement).backgroundColor : getComputedStyle(document.body).backgroundColor), PAGE_BG[theme], `${spec.path}: the ${theme} theme`);
            for (const v of await axeViolations(page)) found.push(`${who} ${spec.path}${spec.name ? ` (${spec.name})` : ''}: ${v.impact} ${v.id} (${v.help}): ${v.nodes.join(' | ')}`);
            checked += 1;
          }
          if (theme === 'dark' && who === 'operator') await screenshot(page, `97-operator-dark-${deviceName}`);
          assert.deepEqual(problems, [], `${who}: page problems`);
          await context.close();
        }
        assert.equal(checked, pages(data).length);
        assert.deepEqual(found, []);
      });
    }
  }

  for (const theme of THEMES) {
    test(`the focus ring has at least 3:1 against what it is drawn on, the green header too: ${theme} theme`, async () => {
      const found = [];
      for (const [deviceName, device] of Object.entries(DEVICES)) {
        for (const [who, path] of [['nobody', '/#matches'], ['bettor', '/#matches'], ['operator', '/#operator/matches']]) {
          const spec = pages(data).find((p) => p.who === who && p.path === path);
          const { context, page, problems } = await open(browser, device, theme, who, data);
          await show(page, spec);
          for (const p of await focusRingProblems(page)) found.push(`${deviceName} ${who} ${spec.path}: ${p}`);
          assert.deepEqual(problems, []);
          await context.close();
        }
      }
      assert.deepEqual(found, []);
    });
  }

  test('the header\'s focus ring is not the blue of the page (1.01:1 on green) but the header\'s text colour', async () => {
    for (const theme of THEMES) {
      const { context, page } = await open(browser, DESKTOP, theme, 'nobody', data);
      await show(page, pages(data)[0]);
      await page.locator('.nav a[data-route="cart"]').focus();
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Tab');
      const ring = await page.evaluate(() => {
        const el = document.activeElement;
        const header = document.querySelector('.site-header');
        return { focused: el.dataset.route, outline: getComputedStyle(el).outlineColor, text: getComputedStyle(header).color, background: getComputedStyle(header).backgroundColor };
      });
      assert.equal(ring.focused, 'cart');
      assert.equal(ring.outline, ring.text, theme);
      assert.notEqual(ring.outline, ring.background, theme);
      await screenshot(page, `98-header-focus-${theme}`);
      await context.close();
    }
  });

  test('form-control borders have at least 3:1 on every page, in both themes', async () => {
    const found = [];
    for (const theme of THEMES) {
      for (const who of ['nobody', 'bettor', 'operator']) {
        const { context, page } = await open(browser, DESKTOP, theme, who, data);
        let inputs = 0;
        for (const spec of pages(data).filter((p) => p.who === who && !p.name)) {
          await show(page, spec);
          inputs += await page.locator('input:visible, select:visible').count();
          for (const p of await borderProblems(page)) found.push(`${theme} ${who} ${spec.path}: ${p}`);
        }
        assert.ok(inputs > 3, `${who}: ${inputs} inputs checked`);
        await context.close();
      }
    }
    assert.deepEqual(found, []);
  });

  test('touch targets are at least 44 x 44 px on every page, on a phone and a desktop', async () => {
    const found = [];
    for (const [deviceName, device] of Object.entries(DEVICES)) {
      for (const who of ['nobody', 'bettor', 'operator']) {
        const { context, page } = await open(browser, device, 'light', who, data);
        for (const spec of pages(data).filter((p) => p.who === who)) {
          await show(page, spec);
          for (const p of await targetProblems(page)) found.push(`${deviceName} ${who} ${spec.path}${spec.name ? ` (${spec.name})` : ''}: ${p}`);
        }
        // The skip link, when it shows (on focus).
        await page.locator('.skip-link').focus();
        const skip = await page.locator('.skip-link').boundingBox();
        if (skip.height < MIN_TARGET || skip.width < MIN_TARGET) found.push(`${deviceName}: skip link ${skip.width}x${skip.height}`);
        await context.close();
      }
    }
    assert.deepEqual([...new Set(found)], []);
  });
});
