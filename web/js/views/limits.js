// The bettor's own responsible-gambling controls on the Account page (API.md
// Part 2, "Responsible gambling"):
// - "Limits": the deposit and stake limits per day, week and month in force,
//   the changes waiting to apply and when, and a form that sends only the
//   limits it changes (an empty field removes one). Lowering a limit, or
//   setting a new one, applies at once; raising or removing one applies 24 h
//   later.
// - "Take a break": a time-out (24 hours to 6 weeks) or a self-exclusion
//   (6 months, 1 year, 5 years), each after a second, explicit confirmation
//   that states the end and that it cannot be undone or shortened.
import * as api from '../api.js';
import { closeConfirm, confirmAction } from '../confirm.js';
import { field, h, uid } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, showFieldErrors, statusBox } from '../errors.js';
import { formatDateTime } from '../format.js';
import { KINDS, PERIODS, PERIOD_LABELS, PERIOD_WINDOWS, limitLabel, limitsSummary, pauseOf } from '../limits.js';
import { formatCash, formatMoney, parseMoney } from '../money.js';
import { onChange, refreshCart, refreshLimits, setLimits, state } from '../state.js';

const MAX_LIMIT = 1_000_000_000_000; // cents, the API's largest limit
const MIN_HOURS = 24;
const MAX_HOURS = 1008;
// [value, label, as in "a 7-day time-out"]
const TIMEOUTS = [
  ['24', '24 hours', '24-hour'],
  ['168', '7 days', '7-day'],
  ['720', '30 days', '30-day'],
  ['custom', 'Other length', null],
];
const EXCLUSIONS = [
  ['6m', '6 months', { months: 6 }],
  ['1y', '1 year', { months: 12 }],
  ['5y', '5 years', { months: 60 }],
];

// "stake limit per day"
const sentenceLabel = (kind, period) => `${kind} limit ${PERIOD_LABELS[period]}`;
const capital = (text) => text[0].toUpperCase() + text.slice(1);
const amountWords = (cents) => (Number.isInteger(cents) ? formatCash(cents) : 'no limit');

const pendingFor = (limits, kind, period) => (limits.pending ?? []).find((p) => p.kind === kind && p.period === period) ?? null;

// What the bettor has asked for: the pending value if a change waits, else
// the limit in force (null: none).
function targetOf(limits, kind, period) {
  const pending = pendingFor(limits, kind, period);
  return pending ? pending.amount : limits[kind]?.[period] ?? null;
}

// Keeps `update(limits)` in step with the bettor's limits in the shared
// state while `el` is on the page.
function follow(el, session, update, onCleanup) {
  let shown = null;
  const sync = () => {
    const limits = state.limitsUser === session.id ? state.limits : null;
    if (limits && limits !== shown) {
      shown = limits;
      update(limits);
    }
  };
  const stop = onChange(() => {
    if (!el.isConnected && shown !== null) stop();
    else sync();
  });
  onCleanup?.(stop);
  sync();
}


// The "Limits" section: what is in force, what waits, and the form.
export function limitsSection(session, { onCleanup } = {}) {
  const headingId = 'limits-heading';
  const now = h('div', { class: 'limits-now', 'aria-live': 'polite' }, h('p', { class: 'muted', text: 'Reading your limits…' }));
  const loadError = errorBox();
  const inputs = new Map(); // "stake.day" -> input
  const fieldsets = KINDS.map((kind) =>
    h(
      'fieldset',
      { class: 'limit-group', 'data-kind': kind },
      h('legend', { text: kind === 'deposit' ? 'Deposit limits' : 'Stake limits' }),
      h(
        'div',
        { class: 'limit-inputs' },
        PERIODS.map((period) => {
          const input = h('input', { type: 'text', inputmode: 'decimal', name: `${kind}.${period}`, 'data-field': `${kind}.${period}`, autocomplete: 'off', size: 10, placeholder: 'none' });
          inputs.set(`${kind}.${period}`, input);
          return field(limitLabel(kind, period), input);
        }),
      ),
    ),
  );
  const error = errorBox();
  const status = statusBox();
  const save = h('button', { type: 'submit', class: 'primary', text: 'Save limits' });
  const form = h(
    'form',
    { class: 'my-limits-form', 'aria-labelledby': 'limits-form-heading', novalidate: true },
    h('h3', { id: 'limits-form-heading', text: 'Change your limits' }),
    h('p', { class: 'hint', text: 'Amounts such as 50.00. Leave a field empty for no limit. A lower limit, or a new one, applies at once; a higher one, or removing one, applies 24 hours later.' }),
    fieldsets,
    error.el,
    h('div', { class: 'actions' }, save),
    status.el,
  );
  const el = h(
    'section',
    { class: 'card limits-card', 'aria-labelledby': headingId },
    h('h2', { id: headingId, text: 'Limits' }),
    h('p', { class: 'muted small', text: `Limits count what you deposit and stake over rolling periods: a day is ${PERIOD_WINDOWS.day}, a week ${PERIOD_WINDOWS.week}, a month ${PERIOD_WINDOWS.month}. A bet or deposit that would go over one is refused.` }),
    loadError.el,
    now,
    form,
  );

  let limits = null; // as last read

  function fill(next) {
    for (const kind of KINDS) {
      for (const period of PERIODS) {
        const target = targetOf(next, kind, period);
        inputs.get(`${kind}.${period}`).value = Number.isInteger(target) ? formatMoney(target) : '';
      }
    }
  }

  // A pending change can be called off: the limit in force is sent again.
  const keepButton = (p) => {
    const current = limits?.[p.kind]?.[p.period] ?? null;
    return h('button', {
      type: 'button',
      class: 'link keep-limit',
      text: `Keep ${amountWords(current)}`,
      'aria-label': `Keep the ${sentenceLabel(p.kind, p.period)} at ${amountWords(current)}`,
      onclick: () => send({ [p.kind]: { [p.period]: current } }),
    });
  };

  function show(next) {
    const first = limits === null;
    limits = next;
    now.replaceChildren(limitsSummary(next, { heading: 'h3', pendingAction: keepButton }));
    // The form follows the server only when the bettor is not in the middle
    // of typing (first read, or after a save).
    if (first) fill(next);
  }

  // What each sent change did: applied now, or waiting until when.
  function outcome(change, answer) {
    const lines = [];
    let waits = false;
    for (const [kind, periods] of Object.entries(change)) {
      for (const [period, amount] of Object.entries(periods)) {
        const label = capital(sentenceLabel(kind, period));
        const pending = pendingFor(answer, kind, period);
        if (pending) {
          waits = true;
          lines.push(
            Number.isInteger(pending.amount)
              ? `${label} will be ${formatCash(pending.amount)} from ${formatDateTime(pending.effective_at)}.`
              : `${label} will be removed on ${formatDateTime(pending.effective_at)}.`,
          );
        } else {
          const current = answer[kind]?.[period] ?? null;
          lines.push(current === amount ? `${label} is now ${amountWords(current)}.` : `${label}: ${amountWords(current)}.`);
        }
      }
    }
    if (waits) lines.push('Raising or removing a limit takes effect after 24 hours.');
    return lines.join(' ');
  }

  async function send(change) {
    error.clear();
    status.clear();
    clearFieldErrors(form);
    save.disabled = true;
    try {
      const answer = await api.setLimits(session.id, session.token, change);
      fill(answer);
      setLimits(answer);
      status.show(Object.keys(change).length ? `Saved. ${outcome(change, answer)}` : 'Nothing to change.');
    } catch (err) {
      if (err.code === 'validation_failed') showFieldErrors(form, err, error);
      else error.show(err);
    } finally {
      save.disabled = false;
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    error.clear();
    status.clear();
    clearFieldErrors(form);
    if (!limits) {
      error.show('Your limits have not been read yet. Try again in a moment.');
      return;
    }
    const change = {};
    const invalid = []; // {field, message}
    for (const kind of KINDS) {
      for (const period of PERIODS) {
        const input = inputs.get(`${kind}.${period}`);
        const text = input.value.trim();
        const amount = text ? parseMoney(text) : null;
        if (text && amount === null) {
          invalid.push({ field: input.dataset.field, message: 'Enter an amount such as 50.00, or leave it empty for no limit.' });
        } else if (amount !== null && amount > MAX_LIMIT) {
          invalid.push({ field: input.dataset.field, message: `At most ${formatCash(MAX_LIMIT)}.` });
        } else if (amount !== targetOf(limits, kind, period)) {
          (change[kind] ??= {})[period] = amount;
        }
      }
    }
    if (invalid.length) {
      showFieldErrors(form, { fieldErrors: invalid });
      inputs.get(invalid[0].field).focus();
      return;
    }
    if (!Object.keys(change).length) {
      status.show('Nothing to change: these are the limits you have already set.');
      return;
    }
    send(change);
  });

  follow(el, session, show, onCleanup);
  refreshLimits().catch((err) => {
    if (!limits) now.replaceChildren();
    loadError.show(err, { text: `Your limits could not be read: ${err.message}` });
  });
  return el;
}

// The "Take a break" section: what runs now, a time-out and a self-exclusion.
export function breakSection(session, { onCleanup } = {}) {
  const headingId = 'break-heading';
  const current = h('p', { class: 'break-now', 'aria-live': 'polite' });
  const status = statusBox();
  onCleanup?.(closeConfirm);

  // Time-out: presets and a length of one's own, in hours.
  const timeoutName = uid('timeout-length');
  const timeoutRadios = TIMEOUTS.map(([value, text]) => {
    const id = uid('timeout');
    const radio = h('input', { type: 'radio', name: timeoutName, id, value, checked: value === '24' });
    return { value, radio, el: h('div', { class: 'check' }, radio, h('label', { for: id, text })) };
  });
  const hours = h('input', { type: 'text', inputmode: 'numeric', name: 'hours', 'data-field': 'hours', autocomplete: 'off', size: 6 });
  hours.addEventListener('input', () => {
    timeoutRadios.find((r) => r.value === 'custom').radio.checked = true;
  });
  const timeoutError = errorBox();
  const timeoutButton = h('button', { type: 'submit', class: 'secondary danger', text: 'Start time-out' });
  const timeoutForm = h(
    'form',
    { class: 'timeout-form', 'aria-labelledby': 'timeout-heading', novalidate: true },
    h('h3', { id: 'timeout-heading', text: 'Time-out' }),
    h('p', { class: 'hint', text: `A short break from betting, from ${MIN_HOURS} hours to 6 weeks. It starts at once and cannot be undone or shortened.` }),
    h('fieldset', {}, h('legend', { text: 'Length of the time-out' }), timeoutRadios.map((r) => r.el)),
    field(`Hours (${MIN_HOURS} to ${MAX_HOURS})`, hours, 'For another length: how many hours.'),
    timeoutError.el,
    h('div', { class: 'actions' }, timeoutButton),
  );

  // Self-exclusion: 6 months, 1 year or 5 years.
  const exclusionName = uid('exclusion-length');
  const exclusionRadios = EXCLUSIONS.map(([value, text]) => {
    const id = uid('exclusion');
    const radio = h('input', { type: 'radio', name: exclusionName, id, value, checked: value === '6m' });
    return { value, radio, el: h('div', { class: 'check' }, radio, h('label', { for: id, text })) };
  });
  const exclusionError = errorBox();
  const exclusionButton = h('button', { type: 'submit', class: 'secondary danger', text: 'Self-exclude' });
  const exclusionForm = h(
    'form',
    { class: 'exclusion-form', 'aria-labelledby': 'exclusion-heading', novalidate: true },
    h('h3', { id: 'exclusion-heading', text: 'Self-exclusion' }),
    h('p', { class: 'hint', text: 'A long break from betting: at least 6 months. It starts at once, and nobody can lift or shorten it, not even us.' }),
    h('fieldset', {}, h('legend', { text: 'Length of the self-exclusion' }), exclusionRadios.map((r) => r.el)),
    exclusionError.el,
    h('div', { class: 'actions' }, exclusionButton),
  );

  const el = h(
    'section',
    { class: 'card break-card', 'aria-labelledby': headingId },
    h('h2', { id: headingId, text: 'Take a break' }),
    current,
    h('p', { class: 'muted small', text: 'During a break you cannot bet, add to your cart, check out or receive deposits, and your cart is emptied. You can still see your bets and ledger, and cash out bets you have already placed.' }),
    status.el,
    h('div', { class: 'two-col' }, timeoutForm, exclusionForm),
  );

  function show(limits) {
    const pause = pauseOf(limits);
    if (!pause) {
      current.replaceChildren('No time-out or self-exclusion is running.');
      delete current.dataset.kind;
      return;
    }
    current.dataset.kind = pause.kind;
    const end = h('strong', {}, h('time', { datetime: pause.until, text: formatDateTime(pause.until) }));
    current.replaceChildren(
      pause.kind === 'self_exclusion' ? 'You are self-excluded until ' : 'You are on a time-out until ',
      end,
      '. Betting is paused until then; it cannot be lifted or shortened. You can still make it longer.',
    );
  }
  follow(el, session, show, onCleanup);

  const later = (a, b) => typeof a === 'string' && Date.parse(a) > Date.parse(b);

  // Asks, then starts it. kind: "timeout" | "self_exclusion".
  async function start({ kind, end, lengthText, request, errorEl, button }) {
    errorEl.clear();
    status.clear();
    const endText = formatDateTime(end.toISOString());
    const running = kind === 'timeout' ? state.limits?.timeout_until : state.limits?.self_excluded_until;
    const noun = kind === 'timeout' ? 'time-out' : 'self-exclusion';
    if (later(running, end.toISOString())) {
      errorEl.show(`Your ${noun} already runs until ${formatDateTime(running)}. A new one must end later than that; it cannot be shortened.`);
      return;
    }
    const yes = await confirmAction(
      kind === 'timeout'
        ? {
          title: `Start a ${lengthText} time-out?`,
          lines: [
            ['Betting is paused until ', h('strong', { class: 'confirm-end', text: endText }), '.'],
            'Until then you cannot place bets, use your cart, check out or receive deposits. Your cart will be emptied.',
            h('strong', { text: 'This cannot be undone or shortened, not by you and not by us.' }),
          ],
          acceptText: 'Yes, start my time-out',
        }
        : {
          title: `Self-exclude for ${lengthText}?`,
          lines: [
            ['You are excluded from betting until ', h('strong', { class: 'confirm-end', text: endText }), '.'],
            'Until then you cannot place bets, use your cart, check out or receive deposits. Your cart will be emptied.',
            h('strong', { text: 'This cannot be undone or shortened, not by you and not by us.' }),
          ],
          acceptText: 'Yes, self-exclude me',
        },
    );
    if (!yes) {
      status.show(`No ${noun} was started.`);
      return;
    }
    button.disabled = true;
    try {
      const answer = await request();
      const until = kind === 'timeout' ? answer.timeout_until : answer.self_excluded_until;
      // At once here; then the server's whole answer.
      setLimits({ ...(state.limits ?? {}), ...(kind === 'timeout' ? { timeout_until: until } : { self_excluded_until: until }) });
      await Promise.all([refreshLimits(), refreshCart()]).catch(() => {});
      status.show(
        kind === 'timeout'
          ? `Your time-out has started. Betting is paused until ${formatDateTime(until)}.`
          : `Your self-exclusion has started. Betting is paused until ${formatDateTime(until)}.`,
      );
    } catch (err) {
      if (err.status === 409 && err.code === 'self_excluded') {
        await refreshLimits().catch(() => {});
        const still = err.until ?? (kind === 'timeout' ? state.limits?.timeout_until : state.limits?.self_excluded_until);
        errorEl.show(err, { text: `Your ${noun} already runs${still ? ` until ${formatDateTime(still)}` : ' longer'}. A new one must end later than that; it cannot be shortened.` });
      } else if (err.code === 'validation_failed') {
        showFieldErrors(kind === 'timeout' ? timeoutForm : exclusionForm, err, errorEl);
      } else {
        errorEl.show(err);
      }
    } finally {
      button.disabled = false;
    }
  }

  timeoutForm.addEventListener('submit', (e) => {
    e.preventDefault();
    timeoutError.clear();
    clearFieldErrors(timeoutForm);
    const choice = timeoutRadios.find((r) => r.radio.checked)?.value ?? '24';
    let n = Number(choice);
    if (choice === 'custom') {
      const text = hours.value.trim();
      n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
      if (!Number.isInteger(n) || n < MIN_HOURS || n > MAX_HOURS) {
        fieldError(timeoutForm, hours, `Enter a whole number of hours from ${MIN_HOURS} to ${MAX_HOURS}.`);
        hours.focus();
        return;
      }
    }
    const preset = TIMEOUTS.find(([value]) => value === choice)?.[2];
    start({
      kind: 'timeout',
      end: new Date(Date.now() + n * 3_600_000),
      lengthText: preset ?? (n % 24 === 0 ? `${n / 24}-day` : `${n}-hour`),
      request: () => api.startTimeout(session.id, session.token, n),
      errorEl: timeoutError,
      button: timeoutButton,
    });
  });

  exclusionForm.addEventListener('submit', (e) => {
    e.preventDefault();
    exclusionError.clear();
    const choice = exclusionRadios.find((r) => r.radio.checked)?.value ?? '6m';
    const [, text, { months }] = EXCLUSIONS.find(([value]) => value === choice);
    const end = new Date();
    end.setUTCMonth(end.getUTCMonth() + months);
    start({
      kind: 'self_exclusion',
      end,
      lengthText: text,
      request: () => api.selfExclude(session.id, session.token, choice),
      errorEl: exclusionError,
      button: exclusionButton,
    });
  });

  return el;
}
