// Owner and admin operators: the audit log (GET /v1/audit), newest first,
// filtered by actor and action, a page at a time.
import * as api from '../api.js';
import { field, h } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError } from '../errors.js';
import { formatDateTime } from '../format.js';
import { pager } from '../pager.js';

const PAGE_SIZE = 20;
const ACTIONS = ['match.create', 'match.update', 'match.suspend', 'match.resume', 'match.settle', 'user.create', 'user.deposit', 'operator.create'];

// The actor as the API wants it: "owner" or "operator:<id>"; "7" and "#7"
// mean operator 7. '' for any actor, null when it cannot be read.
function parseActor(text) {
  const value = text.trim().toLowerCase();
  if (!value) return '';
  if (value === 'owner') return 'owner';
  const id = value.match(/^(?:operator:|#)?(\d+)$/)?.[1];
  return id && Number(id) > 0 ? `operator:${Number(id)}` : null;
}

// {"result": "1"} -> "result: 1"; nested values as JSON.
function detailsText(details) {
  const entries = Object.entries(details ?? {});
  if (!entries.length) return '–';
  return entries.map(([key, value]) => `${key}: ${value !== null && typeof value === 'object' ? JSON.stringify(value) : value}`).join(', ');
}

function entryTable(items) {
  const cell = (label, text, cls) => h('td', { 'data-label': label, class: cls, text });
  const rows = items.map((e) =>
    h(
      'tr',
      { 'data-audit-id': e.id, 'data-action': e.action },
      h('td', { 'data-label': 'When' }, h('time', { datetime: e.at, text: formatDateTime(e.at) })),
      cell('Actor', e.actor, 'actor'),
      cell('Action', e.action, 'action'),
      cell('Target', e.target, 'target'),
      cell('Details', detailsText(e.details), 'details-text'),
      cell('Request', e.request_id ?? '–', 'request-id small'),
    ),
  );
  return h(
    'table',
    { class: 'data stack audit' },
    h('thead', {}, h('tr', {}, ['When', 'Actor', 'Action', 'Target', 'Details', 'Request'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows),
  );
}

export function render(section, { token }) {
  const actor = h('input', { type: 'text', name: 'actor', 'data-field': 'actor', autocomplete: 'off', placeholder: 'any' });
  const action = h('select', { name: 'action' }, h('option', { value: '', text: 'Any' }), ACTIONS.map((a) => h('option', { value: a, text: a })));
  const filters = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter the audit log', novalidate: true },
    field('Actor', actor, 'owner, or an operator number such as 7'),
    field('Action', action),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Show' })),
  );
  const error = errorBox();
  const holder = h('div', { class: 'table-holder' });
  const pages = pager('Audit log pages', (offset) => load(offset));
  section.append(filters, error.el, holder, pages.el);
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    load(0);
  });
  action.addEventListener('change', () => load(0));

  let loads = 0; // answers to a superseded load are dropped
  async function load(offset) {
    error.clear();
    clearFieldErrors(filters);
    const who = parseActor(actor.value);
    if (who === null) return fieldError(filters, actor, 'Enter "owner" or an operator number such as 7.');
    const mine = ++loads;
    holder.setAttribute('aria-busy', 'true');
    try {
      const page = await api.auditLog(token, { actor: who, action: action.value, limit: PAGE_SIZE, offset });
      if (mine !== loads) return;
      holder.replaceChildren(page.items.length ? entryTable(page.items) : h('p', { class: 'empty', text: 'No entries match.' }));
      pages.update(page);
    } catch (err) {
      if (mine === loads) error.show(err);
    } finally {
      if (mine === loads) holder.removeAttribute('aria-busy');
    }
  }
  load(0);
}
