// The operator's page (admin token): matches and results, new matches,
// fixture import, accounts, the summary and all bets, as sub-pages.
import { field, h } from '../dom.js';
import { errorBox } from '../errors.js';
import { adminToken, saveAdminToken } from '../session.js';
import * as adminBets from './admin_bets.js';
import * as adminImport from './admin_import.js';
import * as adminMatches from './admin_matches.js';
import * as adminUsers from './admin_users.js';

const SECTIONS = [
  ['matches', 'Matches & results', adminMatches.renderList],
  ['new', 'New match', adminMatches.renderNew],
  ['import', 'Import fixtures', adminImport.render],
  ['accounts', 'Accounts', adminUsers.render],
  ['summary', 'Summary', adminBets.renderSummary],
  ['bets', 'All bets', adminBets.renderList],
];

function tokenForm(onSaved) {
  const input = h('input', { type: 'password', name: 'admin_token', 'data-field': 'admin_token', autocomplete: 'off', required: true });
  const error = errorBox();
  const form = h(
    'form',
    { class: 'card form', 'aria-labelledby': 'admin-token-heading' },
    h('h2', { id: 'admin-token-heading', text: 'Operator sign-in' }),
    h('p', {}, 'Enter the admin token from the server configuration (', h('code', { text: 'BETSDB_ADMIN_TOKEN' }), '). This browser keeps it until you forget it.'),
    field('Admin token', input),
    error.el,
    h('button', { type: 'submit', class: 'primary', text: 'Use this token' }),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!input.value.trim()) {
      error.show('Enter the admin token.');
      return;
    }
    saveAdminToken(input.value.trim());
    onSaved();
  });
  return form;
}

export function render(main, ctx) {
  main.append(h('h1', { tabindex: '-1', text: 'Operator' }));
  const token = adminToken();
  if (!token) {
    main.append(tokenForm(() => ctx.rerender()));
    return;
  }
  const current = SECTIONS.find(([key]) => key === ctx.sub) ?? SECTIONS[0];
  const forget = h('button', {
    type: 'button',
    class: 'link',
    text: 'Forget admin token',
    onclick: () => {
      saveAdminToken(null);
      ctx.rerender();
    },
  });
  const tabs = h(
    'nav',
    { class: 'subnav', 'aria-label': 'Operator' },
    h(
      'ul',
      {},
      SECTIONS.map(([key, label]) =>
        h('li', {}, h('a', { href: `#operator/${key}`, 'aria-current': key === current[0] ? 'page' : false, text: label })),
      ),
    ),
  );
  const section = h('section', { class: 'operator-section', 'aria-labelledby': 'op-heading' }, h('h2', { id: 'op-heading', text: current[1] }));
  main.append(h('p', { class: 'muted small' }, 'Signed in as operator. ', forget), tabs, section);
  current[2](section, { token, ...ctx });
}
