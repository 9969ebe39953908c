// Money is integer cents end to end; text only at the edges. No binary
// floating point touches an amount, so 0.1 + 0.2 problems cannot arise.

const CENTS_PER_UNIT = 100;

// 1050 -> "10.50", -250 -> "-2.50": the plain amount, as a stake or limit
// input holds it (text for people reads better as formatCash below).
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

// The currency every amount is in. The API speaks integer minor units and
// names no currency; this is the one the bettor's pages show.
export const CURRENCY = 'EUR';

// The viewer's locale decides the symbol's place and the separators
// ("€1,234.50" in en-GB, "1.234,50 €" in de-DE). The amount goes in as a
// decimal string, which Intl formats exactly: no float ever holds it.
const CASH = new Intl.NumberFormat(undefined, { style: 'currency', currency: CURRENCY, minimumFractionDigits: 2, maximumFractionDigits: 2 });
const SIGNED_CASH = new Intl.NumberFormat(undefined, { style: 'currency', currency: CURRENCY, minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay: 'exceptZero' });

// Cents (a number or a BigInt) as "1234.50" / "-2.50".
function decimalText(cents) {
  const value = BigInt(cents);
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

const isAmount = (cents) => typeof cents === 'bigint' || (Number.isFinite(cents) && Number.isInteger(cents));

// Money as people read it: thousands separators and the currency.
// 123456 -> "€1,234.56", -250 -> "-€2.50" (en-GB). For text, not for inputs
// (formatMoney writes what parseMoney reads back).
export function formatCash(cents) {
  return isAmount(cents) ? CASH.format(decimalText(cents)) : '–';
}

// Like formatCash, with a "+" on credits: "+€21.00".
export function formatSignedCash(cents) {
  return isAmount(cents) ? SIGNED_CASH.format(decimalText(cents)) : '–';
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
