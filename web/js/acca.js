// Accumulator maths, exact, as the server does it (API.md Part 2,
// "Accumulators"): the combined odds are the product of the legs' odds, shown
// rounded DOWN to 2 decimals; the payout is floor(stake x product). Odds are
// integer hundredths and everything is BigInt: ten legs at 1000.00 on a stake
// of 10^8 cents is ~10^38, and a float product can land a cent low
// (2.00 x 1.15 x 1.15 x 1000 is 2644.9999999999995, the exact payout 2645).
import { oddsHundredths } from './money.js';

export const MIN_LEGS = 2;
export const MAX_LEGS = 10;
export const MAX_PAYOUT = 10n ** 13n; // cents; a larger payout is refused on "stake"

// The exact product of decimal odds as a fraction: numerator / 100^n.
function product(oddsList) {
  let numerator = 1n;
  let denominator = 1n;
  for (const odds of oddsList) {
    numerator *= BigInt(oddsHundredths(odds));
    denominator *= 100n;
  }
  return { numerator, denominator };
}

// The combined odds in hundredths, rounded down: [2, 3.5, 1.25] -> 875n.
export function combinedOddsHundredths(oddsList) {
  const { numerator, denominator } = product(oddsList);
  return (numerator * 100n) / denominator;
}

// "8.75"; a product of 1.01 ten times (1.1046...) is "1.10".
export function formatCombinedOdds(oddsList) {
  return formatHundredths(combinedOddsHundredths(oddsList));
}

// floor(stake x product) in cents, a BigInt. Also the payout of a won
// accumulator whose void legs are left out (a void leg counts 1).
export function accaPayout(stakeCents, oddsList) {
  const { numerator, denominator } = product(oddsList);
  return (BigInt(stakeCents) * numerator) / denominator;
}

// A BigInt amount of cents as a plain amount: 8750n -> "87.50" (for text
// with the currency, money.js formatCash takes a BigInt too).
export function formatBigMoney(cents) {
  return formatHundredths(cents);
}

function formatHundredths(value) {
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

// What keeps these cart items from being one accumulator, as sentences (none
// when they can be): too few or too many, two on one match, a selection no
// longer offered. `labelOf(item)` names an item's match.
export function legProblems(items, labelOf) {
  const problems = [];
  if (items.length < MIN_LEGS) problems.push(`Pick at least ${MIN_LEGS} selections on different matches for an accumulator.`);
  if (items.length > MAX_LEGS) problems.push(`An accumulator takes at most ${MAX_LEGS} selections; remove ${items.length - MAX_LEGS}.`);
  const perMatch = new Map();
  for (const item of items) perMatch.set(item.match_id, (perMatch.get(item.match_id) ?? 0) + 1);
  for (const [matchId, count] of perMatch) {
    if (count > 1) {
      const item = items.find((i) => i.match_id === matchId);
      problems.push(`An accumulator takes one selection per match: ${labelOf(item)} has ${count}; remove all but one.`);
    }
  }
  for (const item of items) {
    if (item.odds === null || item.odds === undefined) problems.push(`${labelOf(item)}: this selection is no longer offered; remove it.`);
  }
  return problems;
}
