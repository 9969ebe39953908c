// The bettor's front page: open matches with their odds, a team filter, and
// one tap on an odds button to put that selection in the cart.
import * as api from '../api.js';
import { append, field, h } from '../dom.js';
import { errorBox, fieldError, clearFieldErrors, statusBox } from '../errors.js';
import { formatDateTime, selectionLabel, toRfc3339 } from '../format.js';
import { formatOdds, parseMoney } from '../money.js';
import { pager } from '../pager.js';
import { currentUser } from '../session.js';
import { onChange, refreshCart, rememberMatch, state } from '../state.js';

const PAGE_SIZE = 20;
const TEAM_LIST_SIZE = 100; // the API's largest page: enough names for the suggestions
const DEFAULT_STAKE = '10.00';
const STAKE_KEY = 'betsdb.defaultStake';

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
  const intro = session
    ? null
    : h('p', { class: 'notice' }, 'To bet, ', h('a', { href: '#account', text: 'sign up on the Account page' }), '. You can browse the odds without an account.');

  append(main, [h('h1', { tabindex: '-1', text: 'Open matches' }), intro, filterForm, stakeForm, status.el, listError.el, list, pages.el]);

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
        await api.addCartItem(user.id, user.token, { match_id: match.id, selection, stake });
        status.show(`Added ${selectionLabel(selection, match)} (${match.team_1} v ${match.team_2}) to your cart.`);
      }
    } catch (error) {
      card.error.show(error);
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
    const card = { error };
    const title = `${match.team_1} v ${match.team_2}`;
    const buttons = ['1', 'X', '2']
      .filter((s) => match.odds[s] !== undefined)
      .map((s) =>
        h(
          'button',
          {
            type: 'button',
            class: 'odds',
            'data-match': match.id,
            'data-selection': s,
            'aria-pressed': String(cartItemFor(match.id, s) !== null),
            // Starts with the visible text, so voice control ("click Draw 3.25") finds it.
            'aria-label': `${selectionLabel(s, match)} ${formatOdds(match.odds[s])}, ${title}`,
            onclick: () => toggle(match, s, card),
          },
          h('span', { class: 'odds-pick', text: s === 'X' ? 'Draw' : selectionLabel(s, match) }),
          h('span', { class: 'odds-value', text: formatOdds(match.odds[s]) }),
        ),
      );
    return h(
      'li',
      { class: 'card match', 'data-match-id': match.id },
      h('h2', { class: 'match-title' }, h('span', { text: match.team_1 }), h('span', { class: 'vs', text: ' v ' }), h('span', { text: match.team_2 })),
      h('p', { class: 'match-date' }, h('time', { datetime: match.date, text: formatDateTime(match.date) })),
      h('div', { class: 'odds-row', role: 'group', 'aria-label': `Odds for ${title}` }, buttons),
      error.el,
    );
  }

  let loads = 0; // answers to a superseded load are dropped
  async function load(offset) {
    listError.clear();
    const mine = ++loads;
    list.setAttribute('aria-busy', 'true');
    try {
      const page = await api.listMatches({
        status: 'open',
        from: toRfc3339(new Date()),
        team: teamInput.value.trim(),
        sort: sortSelect.value,
        limit: PAGE_SIZE,
        offset,
      });
      if (mine !== loads) return;
      list.replaceChildren(...page.items.map(matchCard));
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
