// The bettor's front page: open matches with their odds, a team filter, and
// one tap on an odds button to put that selection in the cart. Suspended
// matches are listed apart, marked "Suspended", their odds buttons disabled.
// While the bettor's self-exclusion or time-out runs, every odds button is
// disabled, its title saying until when.
// Changes arrive live (js/live.js): prices change in place with a brief
// highlight, a suspension greys its match, a settled match leaves the list
// and a new one takes its place by date, all without a reload.
import * as api from '../api.js';
import { append, field, h } from '../dom.js';
import { errorBox, fieldError, clearFieldErrors, statusBox } from '../errors.js';
import { formatDateTime, selectionLabel, toRfc3339 } from '../format.js';
import { liveMatches } from '../live.js';
import { formatMoney, formatOdds, oddsHundredths, parseMoney } from '../money.js';
import { pager } from '../pager.js';
import { currentUser } from '../session.js';
import { pauseControl } from '../limits.js';
import { bettingPause, onChange, refreshCart, rememberMatch, state } from '../state.js';

const PAGE_SIZE = 20;
const TEAM_LIST_SIZE = 100; // the API's largest page: enough names for the suggestions
const DEFAULT_STAKE = '10.00';
const STAKE_KEY = 'betsdb.defaultStake';
const SUSPENDED_LIST_SIZE = 100; // suspensions are few and short: one page, no paging
const FLASH_MS = 1500; // how long a price that just changed stays highlighted
const LIVE_TEXT = {
  connecting: 'Connecting to live prices…',
  live: 'Live: prices update as they change',
  reconnecting: 'Reconnecting… prices may be out of date',
};

const flashTimers = new WeakMap();

// Highlights a price that just changed, for FLASH_MS (again from the start
// if it changes again meanwhile).
function flash(el) {
  el.classList.add('odds-changed');
  clearTimeout(flashTimers.get(el));
  flashTimers.set(el, setTimeout(() => el.classList.remove('odds-changed'), FLASH_MS));
}

// Whether two versions of a match offer the same selections (not prices).
function sameSelections(a, b) {
  return ['1', 'X', '2'].every((s) => (a.odds[s] === undefined) === (b.odds[s] === undefined));
}

function cartItemFor(matchId, selection) {
  return state.cart?.items?.find((i) => i.match_id === matchId && i.selection === selection) ?? null;
}

export function render(main, ctx) {
  const session = currentUser();
  const teamInput = h('input', { type: 'search', name: 'team', list: 'team-options', autocomplete: 'off' });
  const teamOptions = h('datalist', { id: 'team-options' });
  const sortSelect = h(
    'select',
    { name: 'sort' },
    h('option', { value: 'date', text: 'Soonest first' }),
    h('option', { value: '-date', text: 'Latest first' }),
  );
  const stakeInput = h('input', {
    type: 'text',
    inputmode: 'decimal',
    name: 'stake',
    'data-field': 'stake',
    value: localStorage.getItem(STAKE_KEY) || DEFAULT_STAKE,
    autocomplete: 'off',
    size: 8,
  });
  const filterForm = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter matches' },
    field('Team', teamInput, 'Exact name, either side'),
    teamOptions,
    field('Order', sortSelect),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Show' }), h('button', { type: 'reset', class: 'secondary', text: 'Clear' })),
  );
  const stakeForm = h(
    'form',
    { class: 'stake-form', onsubmit: (e) => e.preventDefault() },
    field('Stake per selection', stakeInput, 'Tap an odds button to add it to your cart with this stake.'),
  );
  const listError = errorBox();
  const status = statusBox();
  const list = h('ul', { class: 'match-list', 'aria-label': 'Matches' });
  const pages = pager('Match pages', (offset) => load(offset));
  const suspendedList = h('ul', { class: 'match-list', 'aria-label': 'Suspended matches' });
  const suspendedSection = h(
    'section',
    { class: 'suspended-matches', 'aria-labelledby': 'suspended-heading', hidden: true },
    h('h2', { id: 'suspended-heading', text: 'Suspended for now' }),
    h('p', { class: 'muted small', text: 'The bookmaker has paused betting on these matches; it resumes when they reopen.' }),
    suspendedList,
  );
  const liveState = h('p', { class: 'live-state small', role: 'status', 'data-state': 'connecting', text: LIVE_TEXT.connecting });
  const intro = session
    ? null
    : h('p', { class: 'notice' }, 'To bet, ', h('a', { href: '#account', text: 'sign up on the Account page' }), '. You can browse the odds without an account.');

  append(main, [h('h1', { tabindex: '-1', text: 'Open matches' }), liveState, intro, filterForm, stakeForm, status.el, listError.el, list, pages.el, suspendedSection]);

  stakeInput.addEventListener('change', () => {
    if (parseMoney(stakeInput.value) !== null) localStorage.setItem(STAKE_KEY, stakeInput.value.trim());
  });
  filterForm.addEventListener('submit', (e) => {
    e.preventDefault();
    load(0);
  });
  filterForm.addEventListener('reset', () => setTimeout(() => load(0)));

  // Odds buttons show whether the selection is in the cart, and are
  // disabled while betting is paused.
  ctx.onCleanup(onChange(() => {
    syncPressed();
    for (const card of cards.values()) card.syncDisabled();
  }));

  function syncPressed() {
    for (const button of list.querySelectorAll('button.odds')) {
      const inCart = cartItemFor(Number(button.dataset.match), button.dataset.selection) !== null;
      button.setAttribute('aria-pressed', String(inCart));
    }
  }

  async function toggle(match, selection, card) {
    card.error.clear();
    status.clear();
    const user = currentUser();
    if (!user) {
      card.error.show('Sign up or sign in on the Account page first.');
      return;
    }
    const existing = cartItemFor(match.id, selection);
    try {
      if (existing) {
        await api.removeCartItem(user.id, user.token, existing.item_id);
        status.show(`Removed ${selectionLabel(selection, match)} (${match.team_1} v ${match.team_2}) from your cart.`);
      } else {
        clearFieldErrors(stakeForm);
        const stake = parseMoney(stakeInput.value);
        if (stake === null || stake <= 0) {
          fieldError(stakeForm, stakeInput, 'Enter a stake such as 10.00.');
          stakeInput.focus();
          return;
        }
        const item = await api.addCartItem(user.id, user.token, { match_id: match.id, selection, stake });
        const shown = match.odds[selection];
        const added = item?.odds_at_add ?? item?.odds ?? null;
        if (added !== null && shown !== undefined && oddsHundredths(added) !== oddsHundredths(shown)) {
          // The price moved since this page was loaded: show the one in the cart.
          match.odds[selection] = added;
          card.showOdds(selection);
          status.show(`Added ${selectionLabel(selection, match)} (${match.team_1} v ${match.team_2}) to your cart at ${formatOdds(added)}: the price has moved from ${formatOdds(shown)}.`);
        } else {
          status.show(`Added ${selectionLabel(selection, match)} (${match.team_1} v ${match.team_2}) to your cart.`);
        }
      }
    } catch (error) {
      card.error.show(error);
      if (error.code === 'match_suspended') card.markSuspended();
    }
    try {
      await refreshCart();
    } catch (error) {
      card.error.show(error);
    }
  }

  const cards = new Map(); // match id -> card, in either list
  let shown = null; // what the lists were loaded with: the filters, the page and whether it is the last

  function matchCard(match) {
    rememberMatch(match);
    const error = errorBox();
    const title = `${match.team_1} v ${match.team_2}`;
    const buttonFor = new Map();
    const oddsLabel = (s) => `${selectionLabel(s, match)} ${formatOdds(match.odds[s])}, ${title}`;
    const buttons = ['1', 'X', '2']
      .filter((s) => match.odds[s] !== undefined)
      .map((s) => {
        const button = h(
          'button',
          {
            type: 'button',
            class: 'odds',
            'data-match': match.id,
            'data-selection': s,
            'aria-pressed': String(cartItemFor(match.id, s) !== null),
            // Starts with the visible text, so voice control ("click Draw 3.25") finds it.
            'aria-label': oddsLabel(s),
            onclick: () => toggle(match, s, card),
          },
          h('span', { class: 'odds-pick', text: s === 'X' ? 'Draw' : selectionLabel(s, match) }),
          h('span', { class: 'odds-value', text: formatOdds(match.odds[s]) }),
        );
        buttonFor.set(s, button);
        return button;
      });
    const dateLine = h('p', { class: 'match-date' }, h('time', { datetime: match.date, text: formatDateTime(match.date) }));
    const group = h('div', { class: 'odds-row', role: 'group', 'aria-label': `Odds for ${title}` }, buttons);
    const suspendedTag = [document.createTextNode(' '), h('span', { class: 'tag status-suspended', text: 'Suspended' })];
    const limitNote = h('p', { class: 'muted small limit-note' });
    const li = h(
      'li',
      { class: 'card match', 'data-match-id': match.id, 'data-status': match.status },
      h('h2', { class: 'match-title' }, h('span', { text: match.team_1 }), h('span', { class: 'vs', text: ' v ' }), h('span', { text: match.team_2 })),
      dateLine,
      group,
      limitNote,
      error.el,
    );
    const card = {
      el: li,
      match,
      error,
      // Shows the selection's price as it is in match.odds now.
      showOdds(s) {
        const button = buttonFor.get(s);
        if (!button) return;
        button.querySelector('.odds-value').textContent = formatOdds(match.odds[s]);
        button.setAttribute('aria-label', oddsLabel(s));
      },
      // No bets while suspended: the buttons are disabled, the card says so.
      markSuspended() {
        if (li.classList.contains('suspended')) return;
        li.dataset.status = 'suspended';
        li.classList.add('suspended');
        dateLine.append(...suspendedTag);
        group.setAttribute('aria-label', `Odds for ${title} (suspended, no bets for now)`);
        card.syncDisabled();
      },
      markOpen() {
        if (!li.classList.contains('suspended')) return;
        li.dataset.status = 'open';
        li.classList.remove('suspended');
        for (const node of suspendedTag) node.remove();
        group.setAttribute('aria-label', `Odds for ${title}`);
        card.syncDisabled();
      },
      // Disabled while suspended or while the bettor's betting is paused.
      syncDisabled() {
        const pause = bettingPause();
        const suspended = li.classList.contains('suspended');
        for (const button of buttons) pauseControl(button, pause, suspended);
      },
      showLimit() {
        limitNote.hidden = !Number.isInteger(match.max_stake);
        limitNote.textContent = limitNote.hidden ? '' : `Maximum stake ${formatMoney(match.max_stake)}`;
      },
      // The match as the stream sent it: the prices that moved change in
      // place, highlighted; the status and the limit follow. (Same
      // selections only: applyLive makes a new card otherwise.)
      update(next) {
        const before = match.odds;
        Object.assign(match, next);
        for (const s of buttonFor.keys()) {
          if (oddsHundredths(before[s]) === oddsHundredths(match.odds[s])) continue;
          card.showOdds(s);
          flash(buttonFor.get(s));
        }
        if (match.status === 'suspended') card.markSuspended();
        else card.markOpen();
        card.showLimit();
      },
    };
    if (match.status === 'suspended') card.markSuspended();
    else card.syncDisabled();
    card.showLimit();
    cards.set(match.id, card);
    return card;
  }

  // Where a match belongs on the page as loaded: the open list, the
  // suspended list, or neither (settled, another team's, or dated before
  // the lists' start).
  function listFor(match) {
    const team = shown.team.toLowerCase();
    if (team && match.team_1.toLowerCase() !== team && match.team_2.toLowerCase() !== team) return null;
    if (Date.parse(match.date) < Date.parse(shown.from)) return null;
    if (match.status === 'open') return list;
    if (match.status === 'suspended') return suspendedList;
    return null;
  }

  // Whether match a comes before match b in the lists' order (date, then id).
  function sortsBefore(a, b) {
    const byDate = (Date.parse(a.date) - Date.parse(b.date)) * (shown.sort === '-date' ? -1 : 1);
    return (byDate || a.id - b.id) < 0;
  }

  // Puts a card in `ul` where its date sorts it. In the open list only if it
  // falls within the page shown: before its first match on a later page, or
  // after its last one on an earlier page, it belongs on another page.
  function place(card, ul) {
    const others = [...ul.querySelectorAll(':scope > li.match')].filter((li) => li !== card.el);
    const next = others.find((li) => sortsBefore(card.match, cards.get(Number(li.dataset.matchId)).match));
    if (ul === list) {
      shown.total += 1;
      const earlierPage = others.length > 0 && next === others[0] && shown.offset > 0;
      const laterPage = !next && !shown.lastPage;
      if (earlierPage || laterPage) {
        remove(card);
        return;
      }
    }
    ul.insertBefore(card.el, next ?? null);
  }

  function remove(card) {
    if (card.el.parentElement === list) shown.total -= 1;
    card.el.remove();
    cards.delete(card.match.id);
  }

  // After the lists changed: the empty note, the suspended section, the pager.
  function tidy() {
    const items = [...list.querySelectorAll(':scope > li.match')];
    list.querySelector(':scope > li.empty')?.remove();
    if (!items.length) list.append(h('li', { class: 'empty', text: shown.team ? 'No open matches for this team.' : 'No open matches right now.' }));
    suspendedSection.hidden = !suspendedList.children.length;
    pages.update({ ...shown, items });
  }

  // One match change from the stream.
  function applyLive(match) {
    if (queued) {
      queued.push(match);
      return;
    }
    if (!shown) return;
    const target = listFor(match);
    let card = cards.get(match.id);
    if (!card && !target) return; // not on this page
    if (card && !target) {
      remove(card);
    } else if (card) {
      if (sameSelections(card.match, match)) {
        card.update(match);
      } else {
        // A selection was withdrawn or offered: a new card in its place.
        const old = card;
        card = matchCard(match);
        old.el.replaceWith(card.el);
      }
      // Resumed: into the open list. (Suspended while in the open list, it
      // stays there, greyed out.)
      if (target === list && card.el.parentElement !== list) {
        card.el.remove();
        place(card, list);
      }
    } else if (target) {
      place(matchCard(match), target);
    }
    tidy();
  }

  let loads = 0; // answers to a superseded load are dropped
  let queued = null; // live changes that arrive during a load, applied after it
  async function load(offset) {
    listError.clear();
    const mine = ++loads;
    queued ??= [];
    list.setAttribute('aria-busy', 'true');
    const filters = { from: toRfc3339(new Date()), team: teamInput.value.trim(), sort: sortSelect.value };
    // Suspended matches are a list of their own; a server that does not know
    // the status (or any failure there) just leaves that list out.
    const suspended = api.listMatches({ ...filters, status: 'suspended', limit: SUSPENDED_LIST_SIZE }).catch(() => null);
    try {
      const page = await api.listMatches({ ...filters, status: 'open', limit: PAGE_SIZE, offset });
      const paused = await suspended;
      if (mine !== loads) return;
      cards.clear();
      const lastPage = page.offset + page.items.length >= page.total;
      shown = { ...filters, limit: page.limit, offset: page.offset, total: page.total, lastPage };
      list.replaceChildren(...page.items.map((m) => matchCard(m).el));
      // (A match suspended or resumed between the two reads is in both: the
      // open list's card stays, and the queued change below corrects it.)
      const pausedItems = (paused?.items ?? []).filter((m) => !cards.has(m.id));
      suspendedList.replaceChildren(...pausedItems.map((m) => matchCard(m).el));
      tidy();
    } catch (error) {
      listError.show(error);
    } finally {
      if (mine === loads) {
        list.removeAttribute('aria-busy');
        const changes = queued;
        queued = null;
        for (const match of changes) applyLive(match);
      }
    }
  }

  async function loadTeams() {
    try {
      const page = await api.listMatches({ status: 'open', from: toRfc3339(new Date()), limit: TEAM_LIST_SIZE });
      const names = new Set();
      for (const m of page.items) names.add(m.team_1).add(m.team_2);
      teamOptions.replaceChildren(...[...names].sort().map((n) => h('option', { value: n })));
    } catch {
      // Suggestions are a convenience; the list itself reports errors.
    }
  }

  // The list is read once the stream is open (and again whenever the stream
  // cannot resume), so no change falls between the two. If the stream
  // cannot open, the list is read anyway.
  ctx.onCleanup(
    liveMatches({
      onMatch: applyLive,
      onReload: () => load(shown?.offset ?? 0),
      onState(name) {
        liveState.dataset.state = name;
        liveState.textContent = LIVE_TEXT[name];
        if (name === 'reconnecting' && loads === 0) load(0);
      },
    }),
  );
  loadTeams();
  if (session && !state.cart) refreshCart().catch(() => {});
}
