// Dates and labels as people read them. The API speaks RFC 3339 UTC; the
// page shows the viewer's local time.

// Every time shown carries its time zone ("UTC", "CET", "GMT+1"): a bettor
// abroad, or reading a screenshot, must not have to guess.
const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
});
const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
const DAY = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });

const dateOf = (rfc3339) => {
  const d = rfc3339 ? new Date(rfc3339) : null;
  return d && !Number.isNaN(d.getTime()) ? d : null;
};

// "Sat, 21 Mar 2026, 19:45 UTC"
export function formatDateTime(rfc3339) {
  if (!rfc3339) return '–';
  const d = dateOf(rfc3339);
  return d ? DATE_TIME.format(d) : rfc3339;
}

// "19:45 UTC"
export function formatTime(rfc3339) {
  const d = dateOf(rfc3339);
  return d ? TIME.format(d) : '–';
}

// The viewer's calendar day of a time, "2026-03-21", for grouping.
export function dayKey(rfc3339) {
  const d = dateOf(rfc3339);
  if (!d) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// "Today, Saturday 21 March 2026" / "Tomorrow, ..." / "Sunday 22 March 2026".
export function formatDay(rfc3339, now = new Date()) {
  const d = dateOf(rfc3339);
  if (!d) return '–';
  const text = DAY.format(d);
  const key = dayKey(rfc3339);
  if (key === dayKey(now.toISOString())) return `Today, ${text}`;
  const tomorrow = new Date(now);
  tomorrow.setDate(tomorrow.getDate() + 1);
  if (key === dayKey(tomorrow.toISOString())) return `Tomorrow, ${text}`;
  return text;
}

// The viewer's time zone as a name and its short form: "Europe/London (GMT)".
export function timeZoneText(now = new Date()) {
  const name = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const short = TIME.formatToParts(now).find((p) => p.type === 'timeZoneName')?.value;
  return short && short !== name ? `${name} (${short})` : name;
}

// A Date as the API's RFC 3339 form, whole seconds, UTC: "2026-12-01T19:45:00Z".
export function toRfc3339(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// The value of an <input type="datetime-local"> (local time) as RFC 3339 UTC.
export function localInputToRfc3339(value) {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : toRfc3339(d);
}

// A Date as an <input type="datetime-local"> value in local time.
export function toLocalInput(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

// 259200 -> "3 days", 7200 -> "2 hours", 90 -> "2 minutes".
export function formatDuration(seconds) {
  const units = [
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
  ];
  for (const [name, size] of units) {
    if (seconds >= size) {
      const n = Math.round(seconds / size);
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return 'less than a minute';
}

// How long to wait, rounded up so the wait is never shorter than said:
// 1 -> "1 second", 45 -> "45 seconds", 61 -> "2 minutes".
export function formatWait(seconds) {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.ceil(s / 60);
  return `${m} minute${m === 1 ? '' : 's'}`;
}

export function selectionLabel(selection, match) {
  if (selection === 'X') return 'Draw';
  if (!match) return selection === '1' ? 'Home win' : 'Away win';
  return selection === '1' ? match.team_1 : match.team_2;
}

// "1 (Arsenal)" for tables where the code matters too.
export function selectionText(selection, match) {
  return `${selection} · ${selectionLabel(selection, match)}`;
}

export const BET_STATUSES = ['pending', 'won', 'lost', 'void', 'cashed_out'];

// "cashed_out" -> "cashed out", as the status tags show it.
export function betStatusText(status) {
  return String(status).replace(/_/g, ' ');
}
