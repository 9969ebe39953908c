// The bettor's front page: open matches with their odds, grouped by day and
// by competition, a search box (GET /v1/matches?q=: a team or competition,
// any part of the name, any case), and one tap on an odds button to put that
// selection in the cart, which the bet slip beside the list shows at once.
// Odds buttons say which selections are in the slip and which the bettor
// already holds in a pending bet. Suspended matches are listed apart, marked
// "Suspended", their odds buttons disabled. While the bettor's self-exclusion
// or time-out runs, every odds button is disabled, its title saying until when.
// Changes arrive live (js/live.js): prices change in place with a brief
// highlight, a suspension greys its match, a settled match leaves the list
// and a new one takes its place by date, all without a reload.
import * as api from '../api.js';
import { append, field, h } from '../dom.js';
import { errorBox, fieldError, clearFieldErrors, statusBox } from '../errors.js';
import { dayKey, formatDateTime, formatDay, formatTime, selectionLabel, timeZoneText, toRfc3339 } from '../format.js';
import { liveMatches } from '../live.js';
import { formatCash, formatOdds, oddsHundredths, parseMoney } from '../money.js';
import { pager } from '../pager.js';
import { currentUser } from '../session.js';
import { pauseControl } from '../limits.js';
import { bettingPause, changeCart, heldOn, onChange, refreshCart, refreshHeld, rememberMatch, state } from '../state.js';

const PAGE_SIZE = 20;
const TEAM_LIST_SIZE = 100; // the API's largest page: enough names for the suggestions
const Q_MIN = 2; // the API's shortest search (GET /v1/matches?q=)
const Q_MAX = 100;
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

// Whether a match fits a search as the API reads q: a case-insensitive part
// of either team's name or of the competition.
function matchesQuery(match, q) {
  if (!q) return true;
  const needle = q.toLowerCase();
  return [match.team_1, match.team_2, match.competition].some((text) => typeof text === 'string' && text.toLowerCase().includes(needle));
}

// What an odds button says beyond the pick and the price: the bettor already
// holds this selection in a pending single, or as a leg of an accumulator.
function heldText(held) {
  if (!held) return '';
  if (held.singles.length) return 'Your bet';
  return held.accas.length ? 'In your acca' : '';
}

export function render(main, ctx) {
  const session = currentUser();
  const queryInput = h('input', { type: 'search', name: 'q', list: 'team-options', autocomplete: 'off', 'data-field': 'q', maxlength: Q_MAX, enterkeyhint: 'search' });
  const teamOptions = h('datalist', { id: 'team-options' });
  // Outside the search form on the page (beside the stake), but one of its
  // fields (form=...), so "Clear" resets it too.
  const sortSelect = h(
    'select',
    { name: 'sort', form: 'match-search' },
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
  const searchButton = h('button', { type: 'submit', text: 'Search' });
  const filterForm = h(
    'form',
    { class: 'match-search', id: 'match-search', role: 'search', 'aria-label': 'Find matches', novalidate: true },
    h('div', { class: 'search-row' }, field('Search matches', queryInput, 'A team or a competition, or part of one'), searchButton, h('button', { type: 'reset', class: 'secondary', text: 'Clear' })),
    teamOptions,
  );
  const stakeForm = h(
    'form',
    { class: 'stake-form', onsubmit: (e) => e.preventDefault() },
    field('Stake per selection', stakeInput, 'Tap an odds button to add it to your bet slip with this stake.'),
  );
  const listError = errorBox();
  const status = statusBox();
  const zoneNote = h('p', { class: 'zone-note muted small' });
  // The open matches: a section per day, in it one per competition.
  const list = h('div', { class: 'match-days', 'data-list': 'open', role: 'region', 'aria-label': 'Matches' });
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

  append(main, [
    h('div', { class: 'matches-head' }, h('h1', { tabindex: '-1', text: 'Open matches' }), liveState),
    intro,
    h('div', { class: 'match-tools' }, filterForm, h('div', { class: 'tools-row' }, field('Order', sortSelect), session ? stakeForm : null)),
    status.el,
    listError.el,
    list,
    zoneNote,
    pages.el,
    suspendedSection,
  ]);

  stakeInput.addEventListener('change', () => {
    if (parseMoney(stakeInput.value) !== null) localStorage.setItem(STAKE_KEY, stakeInput.value.trim());
  });
  filterForm.addEventListener('submit', (e) => {
    e.preventDefault();
    clearFieldErrors(filterForm);
    const q = queryInput.value.trim();
    if (q && q.length < Q_MIN) {
      fieldError(filterForm, queryInput, `Type at least ${Q_MIN} characters to search.`);
      queryInput.focus();
      return;
    }
    load(0);
  });
  sortSelect.addEventListener('change', () => filterForm.requestSubmit());
  filterForm.addEventListener('reset', () =>
    setTimeout(() => {
      clearFieldErrors(filterForm);
      load(0);
    }),
  );

  // Odds buttons show whether the selection is in the cart and whether the
  // bettor holds it already, and are disabled while betting is paused.
  ctx.onCleanup(onChange(() => {
    for (const card of cards.values()) {
      card.syncMarks();
      card.syncDisabled();
    }
  }));

  // Selections whose add or removal is on its way: a second tap meanwhile
  // (a double tap) would act on the cart as it was before the first.
  const toggling = new Set();

  async function toggle(match, selection, card) {
    const key = `${match.id}:${selection}`;
    if (toggling.has(key)) return;
    toggling.add(key);
    try {
      await changeCart(() => toggleNow(match, selection, card));
    } finally {
      toggling.delete(key);
    }
  }

  async function toggleNow(match, selection, card) {
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
        status.show(`Removed ${selectionLabel(selection, match)} (${match.team_1} v ${match.team_2}) from your bet slip.`);
      } else {
        clearFieldErrors(stakeForm);
        const stake = parseMoney(stakeInput.value);
        if (stake === null || stake <= 0) {
          fieldError(stakeForm, stakeInput, 'Enter a stake such as 10.00.');
          stakeInput.focus();
          return;
        }
        // The price on the button when tapped, and the version of the prices
        // it belongs to (the live stream may change them while the add is on
        // its way).
        const shown = match.odds[selection];
        const version = match.odds_version;
        const item = await api.addCartItem(user.id, user.token, { match_id: match.id, selection, stake });
        const added = item?.odds_at_add ?? item?.odds ?? null;
        if (added !== null && shown !== undefined && oddsHundredths(added) !== oddsHundredths(shown)) {
          // The price moved since this page was loaded: show the one in the
          // cart, unless the live stream has brought newer prices meanwhile
          // (even the same price again: a move away and back).
          if (match.odds_version === version) {
            match.odds[selection] = added;
            card.showOdds(selection);
          }
          status.show(`Added ${selectionLabel(selection, match)} (${match.team_1} v ${match.team_2}) to your bet slip at ${formatOdds(added)}: the price has moved from ${formatOdds(shown)}.`);
        } else {
          status.show(`Added ${selectionLabel(selection, match)} (${match.team_1} v ${match.team_2}) to your bet slip.`);
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
  let openOrder = []; // the open list's match ids, in the list's order
  let shown = null; // what the lists were loaded with: the filters, the page and whether it is the last

  function matchCard(match) {
    rememberMatch(match);
    const error = errorBox();
    const title = `${match.team_1} v ${match.team_2}`;
    const buttonFor = new Map();
    // The button's accessible name: its visible text, in the same order
    // (so voice control finds "Arsenal 2.10"), then the match.
    const oddsLabel = (s, button) => {
      const seen = [...button.querySelectorAll('.odds-pick, .odds-value, .odds-held')].filter((el) => el.textContent).map((el) => el.textContent);
      return `${seen.join(' ')}, ${title}`;
    };
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
            onclick: () => toggle(match, s, card),
          },
          // Spaces between the parts, so the text reads "Arsenal 2.10", as the name does.
          h('span', { class: 'odds-pick', text: s === 'X' ? 'Draw' : selectionLabel(s, match) }),
          ' ',
          h('span', { class: 'odds-value', text: formatOdds(match.odds[s]) }),
          ' ',
          h('span', { class: 'odds-held' }),
        );
        buttonFor.set(s, button);
        return button;
      });
    const relabel = (s) => {
      const button = buttonFor.get(s);
      button.setAttribute('aria-label', oddsLabel(s, button));
    };
    const time = h('time');
    const dateLine = h('p', { class: 'match-date' }, time);
    // A heading one level below the group it is in (set by setContext).
    const titleEl = h('div', { class: 'match-title', role: 'heading', 'aria-level': 3 }, h('span', { text: match.team_1 }), h('span', { class: 'vs', text: ' v ' }), h('span', { text: match.team_2 }));
    let context = 'suspended';
    const group = h('div', { class: 'odds-row', role: 'group', 'aria-label': `Odds for ${title}` }, buttons);
    const suspendedTag = [document.createTextNode(' '), h('span', { class: 'tag status-suspended', text: 'Suspended' })];
    const limitNote = h('p', { class: 'muted small limit-note' });
    const li = h(
      'li',
      { class: 'card match', 'data-match-id': match.id, 'data-status': match.status },
      h('div', { class: 'match-head' }, titleEl, dateLine),
      group,
      limitNote,
      error.el,
    );
    const card = {
      el: li,
      match,
      error,
      // In the open list ('open', under a day's heading: the time is
      // enough) or the suspended one (the date too); level: its heading's.
      setContext(where, level) {
        context = where;
        titleEl.setAttribute('aria-level', String(level));
        card.showDate();
      },
      showDate() {
        time.dateTime = match.date;
        time.title = formatDateTime(match.date);
        time.textContent = context === 'open' ? formatTime(match.date) : formatDateTime(match.date);
      },
      // Shows the selection's price as it is in match.odds now.
      showOdds(s) {
        const button = buttonFor.get(s);
        if (!button) return;
        button.querySelector('.odds-value').textContent = formatOdds(match.odds[s]);
        relabel(s);
      },
      // In the slip (pressed) and already held (a pending bet), as the state says.
      syncMarks() {
        for (const [s, button] of buttonFor) {
          button.setAttribute('aria-pressed', String(cartItemFor(match.id, s) !== null));
          const text = heldText(heldOn(match.id, s));
          const held = button.querySelector('.odds-held');
          if (held.textContent !== text) held.textContent = text;
          button.classList.toggle('held', Boolean(text));
          relabel(s);
        }
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
        limitNote.textContent = limitNote.hidden ? '' : `Maximum stake ${formatCash(match.max_stake)}`;
      },
      // The match as the stream sent it: the prices that moved change in
      // place, highlighted; the status and the limit follow. (Same
      // selections, day and competition only: applyLive makes a new card
      // otherwise.)
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
        card.showDate();
      },
    };
    card.showDate();
    card.syncMarks();
    if (match.status === 'suspended') card.markSuspended();
    else card.syncDisabled();
    card.showLimit();
    cards.set(match.id, card);
    return card;
  }

  // Where a match belongs on the page as loaded: the open list, the
  // suspended list, or neither (settled, not found by the search, or dated
  // before the lists' start).
  function listFor(match) {
    if (!matchesQuery(match, shown.q)) return null;
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

  // Draws the open list from openOrder: a section per day (in the list's
  // order), in it a section per competition (in order of their first match;
  // no competition heading when a day has none). The cards are moved, not
  // made again, and keep their focus.
  function regroup() {
    const active = list.contains(document.activeElement) ? document.activeElement : null;
    const days = new Map(); // day key -> {date, comps: Map(competition -> [card])}
    for (const id of openOrder) {
      const card = cards.get(id);
      if (!card) continue;
      const key = dayKey(card.match.date);
      if (!days.has(key)) days.set(key, { date: card.match.date, comps: new Map() });
      const comps = days.get(key).comps;
      const comp = card.match.competition ?? '';
      if (!comps.has(comp)) comps.set(comp, []);
      comps.get(comp).push(card);
    }
    const sections = [...days].map(([key, day]) => {
      const dayId = `day-${key}`;
      const named = [...day.comps.keys()].some((c) => c !== '');
      return h(
        'section',
        { class: 'day-group', 'aria-labelledby': dayId, 'data-day': key },
        h('h2', { class: 'day-heading', id: dayId, text: formatDay(day.date) }),
        [...day.comps].map(([comp, group], i) => {
          const compId = `${dayId}-c${i}`;
          const heading = named ? h('h3', { class: 'competition-heading', id: compId, text: comp || 'Other matches' }) : null;
          for (const c of group) c.setContext('open', named ? 4 : 3);
          return h(
            'section',
            { class: 'competition-group', 'aria-labelledby': heading ? compId : null, 'data-competition': comp },
            heading,
            h('ul', { class: 'match-list', 'aria-label': `${comp || 'Matches'}, ${formatDay(day.date)}` }, group.map((c) => c.el)),
          );
        }),
      );
    });
    list.replaceChildren(...sections);
    if (active && active.isConnected && document.activeElement !== active) active.focus({ preventScroll: true });
  }

  // Puts a card in the open list where its date sorts it, if it falls
  // within the page shown: before its first match on a later page, or after
  // its last one on an earlier page, it belongs on another page. Or at the
  // end of the suspended list's date order.
  function place(card, target) {
    if (target === suspendedList) {
      card.setContext('suspended', 3);
      const others = [...suspendedList.querySelectorAll(':scope > li.match')].filter((li) => li !== card.el);
      const next = others.find((li) => sortsBefore(card.match, cards.get(Number(li.dataset.matchId)).match));
      suspendedList.insertBefore(card.el, next ?? null);
      return;
    }
    const others = openOrder.filter((id) => id !== card.match.id);
    const at = others.findIndex((id) => sortsBefore(card.match, cards.get(id).match));
    shown.total += 1;
    const earlierPage = others.length > 0 && at === 0 && shown.offset > 0;
    const laterPage = at === -1 && !shown.lastPage;
    if (earlierPage || laterPage) {
      remove(card);
      return;
    }
    others.splice(at === -1 ? others.length : at, 0, card.match.id);
    openOrder = others;
    regroup();
  }

  function remove(card) {
    if (openOrder.includes(card.match.id)) {
      shown.total -= 1;
      openOrder = openOrder.filter((id) => id !== card.match.id);
    }
    card.el.remove();
    cards.delete(card.match.id);
  }

  // After the lists changed: the empty note, the suspended section, the
  // pager, and no empty day or competition left behind.
  function tidy() {
    const items = openOrder.map((id) => cards.get(id)?.el).filter(Boolean);
    for (const group of list.querySelectorAll('.competition-group, .day-group')) {
      if (!group.querySelector('li.match')) group.remove();
    }
    list.querySelector(':scope > p.empty')?.remove();
    if (!items.length) list.append(h('p', { class: 'empty', text: shown.q ? `No open matches for “${shown.q}”.` : 'No open matches right now.' }));
    suspendedSection.hidden = !suspendedList.children.length;
    pages.update({ ...shown, items });
  }

  const inOpenList = (card) => openOrder.includes(card.match.id);

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
    } else if (!card) {
      place(matchCard(match), target);
    } else {
      const wasOpen = inOpenList(card);
      const moved = card.match.date !== match.date || (card.match.competition ?? null) !== (match.competition ?? null);
      if (sameSelections(card.match, match)) {
        card.update(match);
      } else {
        // A selection was withdrawn or offered: a new card in its place.
        const old = card;
        card = matchCard(match);
        card.setContext(wasOpen ? 'open' : 'suspended', Number(old.el.querySelector('.match-title').getAttribute('aria-level')));
        old.el.replaceWith(card.el);
      }
      if (target === list && !wasOpen) {
        // Resumed: into the open list. (Suspended while in the open list,
        // it stays there, greyed out.)
        card.el.remove();
        place(card, list);
      } else if (wasOpen && moved) {
        // Another day or competition: to its new place.
        openOrder = openOrder.filter((id) => id !== match.id);
        shown.total -= 1;
        place(card, list);
      }
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
    const q = queryInput.value.trim();
    const filters = { from: toRfc3339(new Date()), q: q.length >= Q_MIN ? q : '', sort: sortSelect.value };
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
      for (const m of page.items) matchCard(m);
      openOrder = page.items.map((m) => m.id);
      regroup();
      // (A match suspended or resumed between the two reads is in both: the
      // open list's card stays, and the queued change below corrects it.)
      const pausedItems = (paused?.items ?? []).filter((m) => !cards.has(m.id));
      suspendedList.replaceChildren(
        ...pausedItems.map((m) => {
          const card = matchCard(m);
          card.setContext('suspended', 3);
          return card.el;
        }),
      );
      zoneNote.textContent = `Times are in your time zone, ${timeZoneText()}.`;
      tidy();
    } catch (error) {
      if (error.code === 'invalid_parameter' && filters.q) fieldError(filterForm, queryInput, error.detail || 'This search is not accepted.');
      else listError.show(error);
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
      for (const m of page.items) {
        names.add(m.team_1).add(m.team_2);
        if (m.competition) names.add(m.competition);
      }
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
  if (session) {
    if (!state.cart) refreshCart().catch(() => {});
    // What the bettor holds already, for the marks on the odds buttons.
    refreshHeld().catch(() => {});
  }
}
