// Money is integer cents end to end; text only at the edges. No binary
// floating point touches an amount, so 0.1 + 0.2 problems cannot arise.

const CENTS_PER_UNIT = 100;

// 1050 -> "10.50", -250 -> "-2.50".
export function formatMoney(cents) {
  if (cents === null || cents === undefined || !Number.isFinite(cents)) return '–';
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const units = Math.trunc(abs / CENTS_PER_UNIT);
  const rest = abs % CENTS_PER_UNIT;
  return `${sign}${units}.${String(rest).padStart(2, '0')}`;
}

// Like formatMoney, with a "+" on credits: for ledger amounts.
export function formatSignedMoney(cents) {
  return cents > 0 ? `+${formatMoney(cents)}` : formatMoney(cents);
}

// "10.5" / "10,50" / "10" -> cents; null when the text is not an amount
// (negative, more than two decimals, not a number, too long).
export function parseMoney(text) {
  const m = /^\s*(\d{1,13})(?:[.,](\d{1,2}))?\s*$/.exec(String(text ?? ''));
  if (!m) return null;
  const cents = Number(m[1]) * CENTS_PER_UNIT + Number((m[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(cents) ? cents : null;
}

// Decimal odds as integer hundredths: 2.1 -> 210. The API sends at most two
// decimals, so rounding only removes binary representation noise.
export function oddsHundredths(odds) {
  return Math.round(Number(odds) * 100);
}

export function formatOdds(odds) {
  if (odds === null || odds === undefined) return '–';
  const hundredths = oddsHundredths(odds);
  return `${Math.trunc(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;
}

// "2.10" -> 2.1 (a JSON number for the API) or null when it is not a decimal
// with at most two places.
export function parseOdds(text) {
  const m = /^\s*(\d{1,4})(?:[.,](\d{1,2}))?\s*$/.exec(String(text ?? ''));
  if (!m) return null;
  return Number(`${m[1]}.${(m[2] ?? '').padEnd(2, '0')}`);
}

// floor(stake * odds) exactly, as the server computes it. stake <= 10^8 and
// hundredths <= 10^5, so the product stays far below 2^53.
export function potentialPayout(stakeCents, odds) {
  const product = stakeCents * oddsHundredths(odds);
  return (product - (product % 100)) / 100;
}
