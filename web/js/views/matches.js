// The bettor's front page: open matches with their odds, a team filter, and
// one tap on an odds button to put that selection in the cart. Suspended
// matches are listed apart, marked "Suspended", their odds buttons disabled.
import * as api from '../api.js';
import { append, field, h } from '../dom.js';
import { errorBox, fieldError, clearFieldErrors, statusBox } from '../errors.js';
import { formatDateTime, selectionLabel, toRfc3339 } from '../format.js';
import { formatMoney, formatOdds, oddsHundredths, parseMoney } from '../money.js';
import { pager } from '../pager.js';
import { currentUser } from '../session.js';
import { onChange, refreshCart, rememberMatch, state } from '../state.js';

const PAGE_SIZE = 20;
const TEAM_LIST_SIZE = 100; // the API's largest page: enough names for the suggestions
const DEFAULT_STAKE = '10.00';
const STAKE_KEY = 'betsdb.defaultStake';
const SUSPENDED_LIST_SIZE = 100; // suspensions are few and short: one page, no paging

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
  const intro = session
    ? null
    : h('p', { class: 'notice' }, 'To bet, ', h('a', { href: '#account', text: 'sign up on the Account page' }), '. You can browse the odds without an account.');

  append(main, [h('h1', { tabindex: '-1', text: 'Open matches' }), intro, filterForm, stakeForm, status.el, listError.el, list, pages.el, suspendedSection]);

  stakeInput.addEventListener('change', () => {
    if (parseMoney(stakeInput.value) !== null) localStorage.setItem(STAKE_KEY, stakeInput.value.trim());
  });
  filterForm.addEventListener('submit', (e) => {
    e.preventDefault();
    load(0);
  });
  filterForm.addEventListener('reset', () => setTimeout(() => load(0)));

  // Odds buttons show whether the selection is in the cart.
  ctx.onCleanup(onChange(() => syncPressed()));

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
    const li = h(
      'li',
      { class: 'card match', 'data-match-id': match.id, 'data-status': match.status },
      h('h2', { class: 'match-title' }, h('span', { text: match.team_1 }), h('span', { class: 'vs', text: ' v ' }), h('span', { text: match.team_2 })),
      dateLine,
      group,
      Number.isInteger(match.max_stake) ? h('p', { class: 'muted small limit-note', text: `Maximum stake ${formatMoney(match.max_stake)}` }) : null,
      error.el,
    );
    const card = {
      el: li,
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
        dateLine.append(' ', h('span', { class: 'tag status-suspended', text: 'Suspended' }));
        group.setAttribute('aria-label', `Odds for ${title} (suspended, no bets for now)`);
        for (const button of buttons) button.disabled = true;
      },
    };
    if (match.status === 'suspended') card.markSuspended();
    return li;
  }

  let loads = 0; // answers to a superseded load are dropped
  async function load(offset) {
    listError.clear();
    const mine = ++loads;
    list.setAttribute('aria-busy', 'true');
    const filters = { from: toRfc3339(new Date()), team: teamInput.value.trim(), sort: sortSelect.value };
    // Suspended matches are a list of their own; a server that does not know
    // the status (or any failure there) just leaves that list out.
    const suspended = api.listMatches({ ...filters, status: 'suspended', limit: SUSPENDED_LIST_SIZE }).catch(() => null);
    try {
      const page = await api.listMatches({ ...filters, status: 'open', limit: PAGE_SIZE, offset });
      const paused = await suspended;
      if (mine !== loads) return;
      list.replaceChildren(...page.items.map(matchCard));
      suspendedList.replaceChildren(...(paused?.items ?? []).map(matchCard));
      suspendedSection.hidden = !paused?.items?.length;
      if (!page.items.length) {
        list.append(h('li', { class: 'empty', text: teamInput.value.trim() ? 'No open matches for this team.' : 'No open matches right now.' }));
      }
      pages.update(page);
    } catch (error) {
      listError.show(error);
    } finally {
      list.removeAttribute('aria-busy');
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

  load(0);
  loadTeams();
  if (session && !state.cart) refreshCart().catch(() => {});
}
