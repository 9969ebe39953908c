// Responsible gambling (API.md Part 2): the words and the read-only view of a
// bettor's deposit and stake limits, the changes waiting to apply, and the
// self-exclusion or time-out that pauses their betting. Used by the bettor's
// Account page, the operator's account look-up, and every page with betting
// controls (which a running pause disables, saying why).
import { h } from './dom.js';
import { formatDateTime } from './format.js';
import { formatCash } from './money.js';

export const KINDS = ['deposit', 'stake'];
export const PERIODS = ['day', 'week', 'month'];
export const KIND_LABELS = { deposit: 'Deposits', stake: 'Stakes' };
export const PERIOD_LABELS = { day: 'per day', week: 'per week', month: 'per month' };
// The rolling windows, as the server counts them.
export const PERIOD_WINDOWS = { day: 'the last 24 hours', week: 'the last 7 days', month: 'the last 30 days' };

// "Stakes per day"
export const limitLabel = (kind, period) => `${KIND_LABELS[kind]} ${PERIOD_LABELS[period]}`;

// "10.00", or "none" for no limit.
export const limitText = (cents) => (Number.isInteger(cents) ? formatCash(cents) : 'none');

// Whether an RFC 3339 time is still ahead.
const ahead = (rfc3339) => typeof rfc3339 === 'string' && Date.parse(rfc3339) > Date.now();

// The pause that stops betting now, or null: {kind: "self_exclusion" |
// "timeout", until, text}. When both run, the one that ends later (betting
// resumes only then).
export function pauseOf(limits) {
  if (!limits) return null;
  const running = [
    ['self_exclusion', limits.self_excluded_until],
    ['timeout', limits.timeout_until],
  ].filter(([, until]) => ahead(until));
  if (!running.length) return null;
  running.sort((a, b) => Date.parse(b[1]) - Date.parse(a[1]));
  const [kind, until] = running[0];
  const what = kind === 'self_exclusion' ? 'Self-excluded' : 'Time-out';
  return { kind, until, text: `${what} until ${formatDateTime(until)}: betting is paused.` };
}

// Disables a betting control while betting is paused, its title saying why.
// `otherwise`: whether it is disabled for a reason of its own (e.g. a
// suspended match, an empty cart).
export function pauseControl(el, pause, otherwise = false) {
  el.disabled = Boolean(pause) || Boolean(otherwise);
  if (pause) {
    el.title = pause.text;
    el.dataset.paused = 'true';
  } else if (el.dataset.paused) {
    el.removeAttribute('title');
    delete el.dataset.paused;
  }
}

// "Stakes per day: 20.00 from Thu 4 Dec 2025, 10:00" (a removal: "no limit").
export function pendingText(p) {
  const to = Number.isInteger(p.amount) ? formatCash(p.amount) : 'no limit';
  return `${limitLabel(p.kind, p.period)}: ${to} from ${formatDateTime(p.effective_at)}`;
}

// The limits as a table (rows deposits and stakes, columns the periods), the
// pending changes, and any self-exclusion or time-out; read-only. `heading`
// is the tag of the sub-headings ("h3", "h4", ...); `pendingAction(p)` may
// add a control to each pending change (the bettor's own page does).
export function limitsSummary(limits, { heading = 'h3', pendingAction = null } = {}) {
  const table = h(
    'table',
    { class: 'data limits-table' },
    h('caption', { class: 'visually-hidden', text: 'Limits in force' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Limit' }), PERIODS.map((p) => h('th', { scope: 'col', class: 'num', text: PERIOD_LABELS[p][0].toUpperCase() + PERIOD_LABELS[p].slice(1) })))),
    h(
      'tbody',
      {},
      KINDS.map((kind) =>
        h(
          'tr',
          { 'data-kind': kind },
          h('th', { scope: 'row', text: KIND_LABELS[kind] }),
          PERIODS.map((period) => {
            const cents = limits[kind]?.[period];
            return h('td', { class: `num limit${Number.isInteger(cents) ? '' : ' none'}`, 'data-kind': kind, 'data-period': period, text: limitText(cents) });
          }),
        ),
      ),
    ),
  );
  const pending = limits.pending ?? [];
  const pendingList = pending.length
    ? h(
      'ul',
      { class: 'pending-limits' },
      pending.map((p) =>
        h(
          'li',
          { 'data-kind': p.kind, 'data-period': p.period },
          h('span', { class: 'pending-text' }, `${limitLabel(p.kind, p.period)}: `, h('strong', { text: Number.isInteger(p.amount) ? formatCash(p.amount) : 'no limit' }), ' from ', h('time', { datetime: p.effective_at, text: formatDateTime(p.effective_at) })),
          pendingAction ? pendingAction(p) : null,
        ),
      ),
    )
    : h('p', { class: 'muted small no-pending', text: 'No changes waiting.' });
  const until = (rfc3339) => (ahead(rfc3339) ? ['until ', h('time', { datetime: rfc3339, text: formatDateTime(rfc3339) })] : 'none');
  return h(
    'div',
    { class: 'limits-summary' },
    h('div', { class: 'table-holder' }, table),
    h(heading, { class: 'pending-heading', text: 'Changes waiting to apply' }),
    pendingList,
    h(heading, { class: 'pause-heading', text: 'Self-exclusion and time-out' }),
    h(
      'dl',
      { class: 'details pause-details' },
      h('dt', { text: 'Self-exclusion' }),
      h('dd', { class: 'self-excluded-until' }, until(limits.self_excluded_until)),
      h('dt', { text: 'Time-out' }),
      h('dd', { class: 'timeout-until' }, until(limits.timeout_until)),
    ),
  );
}
