// Small horizontal bar charts, with their figures also written as text so
// they read the same to a screen reader. Laid out by CSS grid, not an SVG
// viewBox: a label or figure wraps instead of being cut off, and keeps its
// size, at any width (an SVG scaled to a phone shrank its text and clipped
// long labels at a fixed label column).
import { h } from './dom.js';

// The bar's length as a share of the plot's width, in percent.
const share = (value, max) => (value > 0 ? Math.max(1, (value / max) * 100) : 0);

// One row per bar, placed explicitly (row `row`), so an overlay (the limit
// line) may share its cells.
function barRow(bar, i, row, max, className) {
  const rect = h('span', { class: 'bar-rect', 'data-share': share(bar.value, max).toFixed(2) });
  rect.style.width = `${share(bar.value, max)}%`;
  const cells = [
    h('span', { class: 'bar-label', text: bar.label }),
    h('span', { class: 'bar-track' }, rect),
    h('span', { class: 'bar-value', text: bar.text }),
  ];
  cells.forEach((cell, column) => {
    cell.style.gridRow = String(row);
    cell.style.gridColumn = String(column + 1);
  });
  return h('div', { class: `bar bar-${i}${className}`, 'data-value': bar.value }, cells);
}

function chart(title, description, rows, className) {
  return h(
    'figure',
    { class: `chart ${className}` },
    h('figcaption', { text: title }),
    h('div', { class: 'chart-body', role: 'img', 'aria-label': `${title}. ${description}` }, rows),
  );
}

// bars: [{label, value, text}] where value sizes the bar and text is shown.
export function barChart(title, bars, { className = '' } = {}) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const rows = bars.map((bar, i) => barRow(bar, i, i + 1, max, ''));
  return chart(title, bars.map((b) => `${b.label}: ${b.text}`).join('; '), rows, className);
}

// Bars against a limit: each bar's value (may be negative: drawn as no bar)
// on a scale that always includes the limit, with the limit as a dashed line.
// A bar over the limit gets the class "over". limit null: no line.
// bars: [{label, value, text}]; limitText labels the line.
export function limitChart(title, bars, { limit = null, limitText = '', className = '' } = {}) {
  const max = Math.max(1, limit ?? 0, ...bars.map((b) => b.value));
  const first = limit === null ? 1 : 2; // the limit's label takes the first row
  const rows = bars.map((bar, i) => barRow(bar, i, first + i, max, limit !== null && bar.value > limit ? ' over' : ''));
  const marks = [];
  if (limit !== null) {
    const at = share(limit, max);
    // The label sits centred on the line, kept inside the plot at its ends.
    const label = h('span', { class: `limit-label${at > 85 ? ' end' : at < 15 ? ' start' : ''}`, text: limitText });
    label.style.left = `${at}%`;
    const head = h('span', { class: 'limit-head' }, label);
    head.style.gridRow = '1';
    head.style.gridColumn = '2';
    const line = h('span', { class: 'limit-line' });
    line.style.left = `${at}%`;
    const overlay = h('span', { class: 'limit-overlay', 'aria-hidden': 'true' }, line);
    overlay.style.gridRow = `${first} / span ${Math.max(1, bars.length)}`;
    overlay.style.gridColumn = '2';
    marks.push(head, overlay);
  }
  const description = bars.map((b) => `${b.label}: ${b.text}`).join('; ');
  return chart(title, `${description}${limit === null ? '' : `. ${limitText}`}`, [...rows, ...marks], className);
}
