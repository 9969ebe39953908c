// "My bets": the bettor's bets, newest first, filtered by status, each
// accumulator with its legs, and a "Cash out" for pending bets; each bet with
// its match's kick-off and result. #bets/12 shows bet 12 alone (the ledger
// links there). Also used by the operator page for the list of all bets
// (with a user column).
import * as api from '../api.js';
import { accaPayout } from '../acca.js';
import { cashOutControl } from '../cashout.js';
import { field, h } from '../dom.js';
import { errorBox, statusBox } from '../errors.js';
import { BET_STATUSES, betStatusText, formatDateTime, selectionLabel, selectionText } from '../format.js';
import { formatCash, formatOdds } from '../money.js';
import { pager } from '../pager.js';
import { currentUser } from '../session.js';
import { freshMatch, matchById, refreshUser } from '../state.js';

const PAGE_SIZE = 20;
const NUMERIC = new Set(['User', 'Stake', 'Odds', 'Payout']);
const BET_ID = /^[1-9]\d{0,17}$/;

const isAcca = (bet) => bet.type === 'accumulator' && Array.isArray(bet.legs);

const titleOf = (match, id) => (match ? `${match.team_1} v ${match.team_2}` : `Match #${id}`);

// What the bet paid or may pay. A won accumulator pays on its won legs only
// (a void leg counts 1), which is less than potential_payout when one was void.
function payoutText(bet) {
  if (bet.status === 'cashed_out') return `${formatCash(bet.cash_out_amount)} cashed out`;
  if (bet.status === 'void') return `${formatCash(bet.stake)} refunded`;
  if (bet.status === 'lost') return formatCash(0);
  if (bet.status === 'won') {
    if (!isAcca(bet)) return formatCash(bet.potential_payout);
    return formatCash(accaPayout(bet.stake, bet.legs.filter((l) => l.status === 'won').map((l) => l.odds)));
  }
  return `${formatCash(bet.potential_payout)} if it wins`;
}

const statusTag = (status) => h('span', { class: `tag status-${status}`, text: betStatusText(status) });

// A match's result in words: "1 · Arsenal", "X · Draw", "Void", or where it
// stands when it has none yet.
export function resultText(match) {
  if (!match) return '–';
  if (match.status === 'settled' || match.result) {
    if (match.result === 'void') return 'Void';
    return match.result ? `${match.result} · ${selectionLabel(match.result, match)}` : 'Settled';
  }
  return Date.parse(match.date) <= Date.now() ? 'Waiting for the result' : 'Not played yet';
}

const kickOff = (match) => (match ? h('time', { datetime: match.date, text: formatDateTime(match.date) }) : '–');

// The matches of these bets (and their legs) as they are now: a result may
// have come in since the page last read them.
async function matchesOf(bets) {
  const ids = new Set();
  for (const bet of bets) {
    if (isAcca(bet)) for (const leg of bet.legs) ids.add(leg.match_id);
    else ids.add(bet.match_id);
  }
  const read = async (id) => [id, await freshMatch(id).catch(() => matchById(id).catch(() => null))];
  return new Map(await Promise.all([...ids].map(read)));
}

// The Match and Pick cells: a single's match and selection, or an
// accumulator's legs, each with its own state.
function matchCells(bet, matches) {
  if (!isAcca(bet)) {
    const match = matches.get(bet.match_id) ?? null;
    return [
      h('td', {}, h('div', {}, titleOf(match, bet.match_id), h('span', { class: 'muted small' }, ` #${bet.id}`))),
      h('td', { text: selectionText(bet.selection, match) }),
      h('td', { class: 'bet-kickoff' }, kickOff(match)),
      h('td', { class: 'bet-result', text: resultText(match) }),
    ];
  }
  const legMatches = bet.legs.map((leg) => matches.get(leg.match_id) ?? null);
  const legs = bet.legs.map((leg, i) => {
    const match = legMatches[i];
    return h(
      'li',
      { class: 'leg', 'data-match-id': leg.match_id, 'data-status': leg.status },
      h('span', { class: 'leg-match', text: titleOf(match, leg.match_id) }),
      ': ',
      h('span', { class: 'leg-pick', text: selectionText(leg.selection, match) }),
      ' at ',
      h('span', { class: 'leg-odds', text: formatOdds(leg.odds) }),
      ' ',
      statusTag(leg.status),
      h('span', { class: 'leg-extra' }, ' · kick-off ', kickOff(match), ' · result ', resultText(match)),
    );
  });
  // The first kick-off, and how many legs have a result.
  const dated = legMatches.filter(Boolean).sort((a, b) => Date.parse(a.date) - Date.parse(b.date));
  const decided = legMatches.filter((m) => m && (m.status === 'settled' || m.result)).length;
  return [
    h(
      'td',
      {},
      h('div', {}, h('strong', { text: 'Accumulator' }), h('span', { class: 'muted small' }, ` #${bet.id}`), h('ul', { class: 'legs', 'aria-label': `Legs of bet #${bet.id}` }, legs)),
    ),
    h('td', { text: `${bet.legs.length} legs` }),
    h('td', { class: 'bet-kickoff' }, dated.length ? h('span', {}, 'first ', kickOff(dated[0])) : '–'),
    h('td', { class: 'bet-result', text: `${decided} of ${bet.legs.length} legs decided` }),
  ];
}

// A table of bets that turns into stacked cards on a narrow screen (each cell
// carries its column name in data-label for the CSS). With `cashOut`
// ({token, onCashedOut}) pending bets get a "Cash out" control.
export async function betTable(bets, { showUser = false, cashOut = null, focusBet = null } = {}) {
  const head = ['Match', 'Pick', 'Kick-off', 'Result', 'Stake', 'Odds', 'Payout', 'Status', 'Placed'];
  const matches = await matchesOf(bets);
  if (showUser) head.unshift('User');
  if (cashOut) head.push('Cash-out');
  const rows = await Promise.all(
    bets.map(async (bet) => {
      const [matchCell, pickCell, kickOffCell, resultCell] = matchCells(bet, matches);
      const payout = payoutText(bet);
      const cells = [
        ['Match', matchCell],
        ['Pick', pickCell],
        ['Kick-off', kickOffCell],
        ['Result', resultCell],
        ['Stake', h('td', { class: 'num', text: formatCash(bet.stake) })],
        ['Odds', h('td', { class: 'num', text: formatOdds(bet.odds) })],
        ['Payout', h('td', { class: 'num', text: payout })],
        ['Status', h('td', {}, statusTag(bet.status))],
        ['Placed', h('td', {}, h('time', { datetime: bet.created_at, text: formatDateTime(bet.created_at) }))],
      ];
      if (showUser) cells.unshift(['User', h('td', { class: 'num', text: `#${bet.user_id}` })]);
      if (cashOut) cells.push(['Cash-out', h('td', {}, bet.status === 'pending' ? cashOutControl(bet, cashOut) : '–')]);
      for (const [label, td] of cells) td.dataset.label = label;
      return h('tr', { 'data-bet-id': bet.id, 'data-status': bet.status, 'data-type': bet.type ?? 'single', class: bet.id === focusBet ? 'focus-bet' : null }, cells.map(([, td]) => td));
    }),
  );
  return h(
    'table',
    { class: 'data stack' },
    h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col', class: NUMERIC.has(t) ? 'num' : null, text: t })))),
    h('tbody', {}, rows),
  );
}

export function statusSelect() {
  return h(
    'select',
    { name: 'status' },
    h('option', { value: '', text: 'All' }),
    BET_STATUSES.map((s) => h('option', { value: s, text: s[0].toUpperCase() + betStatusText(s).slice(1) })),
  );
}

export function render(main, ctx) {
  const user = currentUser();
  const betId = BET_ID.test(ctx?.sub ?? '') ? Number(ctx.sub) : null;
  main.append(h('h1', { tabindex: '-1', text: betId ? `Bet #${betId}` : 'My bets' }));
  if (!user) {
    main.append(h('p', { class: 'notice' }, h('a', { href: '#account', text: 'Sign up or sign in' }), ' to see your bets.'));
    return;
  }
  if (betId) {
    oneBet(main, user, betId);
    return;
  }
  const status = statusSelect();
  const filters = h('form', { class: 'filters', 'aria-label': 'Filter bets' }, field('Status', status));
  const error = errorBox();
  const done = statusBox();
  const holder = h('div', { class: 'table-holder' });
  const pages = pager('Bet pages', (offset) => load(offset));
  main.append(filters, done.el, error.el, holder, pages.el);
  let shownOffset = 0;
  const cashOut = {
    token: user.token,
    // Cashed out: the new balance in the header, the bet's new status in the list.
    onCashedOut: async (bet) => {
      const me = await refreshUser().catch(() => null);
      const balance = me ? ` Your balance is now ${formatCash(me.balance)}.` : '';
      done.show(`Cashed out bet #${bet.id} for ${formatCash(bet.cash_out_amount)}.${balance}`);
      await load(shownOffset);
    },
  };
  status.addEventListener('change', () => load(0));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    load(0);
  });

  let loads = 0; // answers to a superseded load are dropped
  async function load(offset) {
    error.clear();
    const mine = ++loads;
    holder.setAttribute('aria-busy', 'true');
    try {
      const page = await api.userBets(user.id, user.token, { status: status.value, limit: PAGE_SIZE, offset });
      const content = page.items.length ? await betTable(page.items, { cashOut }) : h('p', { class: 'empty', text: status.value ? `No ${betStatusText(status.value)} bets.` : 'No bets yet.' });
      if (mine !== loads) return;
      shownOffset = offset;
      holder.replaceChildren(content);
      pages.update(page);
    } catch (err) {
      error.show(err);
    } finally {
      holder.removeAttribute('aria-busy');
    }
  }
  load(0);
  refreshUser().catch(() => {});
}

// One bet (GET /v1/bets/{id}), as the ledger links to it.
function oneBet(main, user, betId) {
  const error = errorBox();
  const done = statusBox();
  const holder = h('div', { class: 'table-holder' });
  main.append(h('p', {}, h('a', { href: '#bets', class: 'back-link', text: 'All my bets' })), done.el, error.el, holder);
  const cashOut = {
    token: user.token,
    onCashedOut: async (bet) => {
      const me = await refreshUser().catch(() => null);
      const balance = me ? ` Your balance is now ${formatCash(me.balance)}.` : '';
      done.show(`Cashed out bet #${bet.id} for ${formatCash(bet.cash_out_amount)}.${balance}`);
      await load();
    },
  };
  async function load() {
    error.clear();
    holder.setAttribute('aria-busy', 'true');
    try {
      const bet = await api.getBet(user.token, betId);
      holder.replaceChildren(await betTable([bet], { cashOut, focusBet: bet.id }));
    } catch (err) {
      error.show(err);
    } finally {
      holder.removeAttribute('aria-busy');
    }
  }
  load();
}
