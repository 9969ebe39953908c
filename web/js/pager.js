// "Previous / Next" paging over the API's {items, total, limit, offset} lists.
import { h } from './dom.js';

export function pager(label, onPage) {
  const info = h('span', { class: 'pager-info', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', class: 'secondary', text: 'Previous' });
  const next = h('button', { type: 'button', class: 'secondary', text: 'Next' });
  const el = h('nav', { class: 'pager', 'aria-label': label }, prev, info, next);
  let page = { total: 0, limit: 20, offset: 0 };
  prev.addEventListener('click', () => onPage(Math.max(0, page.offset - page.limit)));
  next.addEventListener('click', () => onPage(page.offset + page.limit));
  return {
    el,
    update({ total, limit, offset, items }) {
      page = { total, limit, offset };
      const first = items.length ? offset + 1 : 0;
      info.textContent = total ? `${first}–${offset + items.length} of ${total}` : 'None';
      prev.disabled = offset <= 0;
      next.disabled = offset + items.length >= total;
      el.hidden = total <= limit && offset === 0;
    },
  };
}
