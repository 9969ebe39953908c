// The operator's page: sign-in (an operator's email and password, or the
// owner's admin token), then the sub-pages the operator's role may use
// (roles.js): matches and results, new matches, fixture import, accounts,
// the summary and all bets, operators and the audit log.
import * as api from '../api.js';
import { h } from '../dom.js';
import { errorBox } from '../errors.js';
import { can, ROLE_LABELS } from '../roles.js';
import { currentOperator, forgetOperator } from '../session.js';
import * as adminAudit from './admin_audit.js';
import * as adminBets from './admin_bets.js';
import * as adminImport from './admin_import.js';
import * as adminMatches from './admin_matches.js';
import * as adminOperators from './admin_operators.js';
import * as adminUsers from './admin_users.js';
import { operatorSignIn } from './operator_signin.js';
import { passwordChangeForm } from './password.js';

// [sub-page, label, render, the capability it needs]
const SECTIONS = [
  ['matches', 'Matches & results', adminMatches.renderList, 'trade'],
  ['new', 'New match', adminMatches.renderNew, 'trade'],
  ['import', 'Import fixtures', adminImport.render, 'trade'],
  ['accounts', 'Accounts', adminUsers.render, 'read_users'],
  ['summary', 'Summary', adminBets.renderSummary, 'summary'],
  ['bets', 'All bets', adminBets.renderList, 'all_bets'],
  ['operators', 'Operators', adminOperators.render, 'operators'],
  ['audit', 'Audit log', adminAudit.render, 'audit'],
];

// "Signed in as …" with the way out: an operator's session is ended on the
// server (a token it no longer accepts is just forgotten); the owner's admin
// token cannot be revoked, only forgotten here.
function whoAmI(operator, done) {
  const error = errorBox();
  const signOut = async () => {
    error.clear();
    try {
      if (operator.role !== 'owner') await api.signOut(operator.token);
    } catch (err) {
      if (err.code !== 'unauthorized') {
        error.show(err);
        return;
      }
    }
    forgetOperator();
    done();
  };
  const owner = operator.role === 'owner';
  // The owner's admin token has no password: it is rotated in the server's
  // configuration instead.
  const password = owner
    ? null
    : h(
        'details',
        { class: 'own-password' },
        h('summary', { text: 'Change your password' }),
        passwordChangeForm({
          headingId: 'operator-password-heading',
          heading: 'Your password',
          change: (current, next) => api.changeOperatorPassword(operator.id, operator.token, current, next),
        }),
      );
  return h(
    'div',
    { class: 'operator-who' },
    h(
      'p',
      { class: 'muted small' },
      owner ? 'Signed in as owner (admin token). ' : ['Signed in as ', h('strong', { class: 'operator-email', text: operator.email ?? `operator #${operator.id}` }), ` (${ROLE_LABELS[operator.role] ?? operator.role}). `],
      h('button', { type: 'button', class: 'link', text: owner ? 'Forget admin token' : 'Sign out', onclick: signOut }),
    ),
    error.el,
    password,
  );
}

export function render(main, ctx) {
  main.append(h('h1', { tabindex: '-1', text: 'Operator' }));
  const operator = currentOperator();
  if (!operator) {
    main.append(operatorSignIn(() => ctx.rerender()));
    return;
  }
  const allowed = SECTIONS.filter(([, , , capability]) => can(operator.role, capability));
  if (!allowed.length) {
    main.append(whoAmI(operator, () => ctx.rerender()), h('p', { class: 'notice', text: 'This role has no operator pages.' }));
    return;
  }
  const current = allowed.find(([key]) => key === ctx.sub) ?? allowed[0];
  const tabs = h(
    'nav',
    { class: 'subnav', 'aria-label': 'Operator' },
    h(
      'ul',
      {},
      allowed.map(([key, label]) => h('li', {}, h('a', { href: `#operator/${key}`, 'aria-current': key === current[0] ? 'page' : false, text: label }))),
    ),
  );
  const section = h('section', { class: 'operator-section', 'aria-labelledby': 'op-heading' }, h('h2', { id: 'op-heading', text: current[1] }));
  main.append(whoAmI(operator, () => ctx.rerender()), tabs, section);
  current[2](section, { token: operator.token, role: operator.role, ...ctx });
}
