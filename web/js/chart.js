// A small horizontal bar chart in SVG, with its figures also written as text
// so it reads the same to a screen reader and survives a missing stylesheet.
import { h, svg } from './dom.js';

const WIDTH = 320; // viewBox units; the SVG scales to its container
const ROW = 30;
const LABEL_WIDTH = 90;
const VALUE_SPACE = 96; // room for the figure printed after the bar

// bars: [{label, value, text}] where value sizes the bar and text is shown.
export function barChart(title, bars, { className = '' } = {}) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const height = bars.length * ROW + 4;
  const plot = WIDTH - LABEL_WIDTH - VALUE_SPACE;
  const rows = bars.map((bar, i) => {
    const y = i * ROW + 4;
    const width = bar.value > 0 ? Math.max(2, (bar.value / max) * plot) : 0;
    return svg(
      'g',
      { class: `bar bar-${i}` },
      svg('text', { x: LABEL_WIDTH - 6, y: y + ROW / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle', class: 'bar-label', text: bar.label }),
      svg('rect', { x: LABEL_WIDTH, y: y + 4, width, height: ROW - 10, rx: 3, class: 'bar-rect' }),
      svg('text', { x: LABEL_WIDTH + width + 6, y: y + ROW / 2, 'dominant-baseline': 'middle', class: 'bar-value', text: bar.text }),
    );
  });
  const description = bars.map((b) => `${b.label}: ${b.text}`).join('; ');
  return h(
    'figure',
    { class: `chart ${className}` },
    h('figcaption', { text: title }),
    svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': `${title}. ${description}` }, rows),
  );
}

// Bars against a limit: each bar's value (may be negative: drawn as no bar)
// on a scale that always includes the limit, with the limit as a dashed line.
// A bar over the limit gets the class "over". limit null: no line.
// bars: [{label, value, text}]; limitText labels the line.
export function limitChart(title, bars, { limit = null, limitText = '', className = '' } = {}) {
  const top = limit === null ? 4 : 18; // room for the limit's label
  const max = Math.max(1, limit ?? 0, ...bars.map((b) => b.value));
  const height = bars.length * ROW + top;
  const plot = WIDTH - LABEL_WIDTH - VALUE_SPACE;
  const rows = bars.map((bar, i) => {
    const y = i * ROW + top;
    const width = bar.value > 0 ? Math.max(2, (bar.value / max) * plot) : 0;
    const over = limit !== null && bar.value > limit;
    return svg(
      'g',
      { class: `bar bar-${i}${over ? ' over' : ''}`, 'data-value': bar.value },
      svg('text', { x: LABEL_WIDTH - 6, y: y + ROW / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle', class: 'bar-label', text: bar.label }),
      svg('rect', { x: LABEL_WIDTH, y: y + 4, width, height: ROW - 10, rx: 3, class: 'bar-rect' }),
      svg('text', { x: LABEL_WIDTH + width + 6, y: y + ROW / 2, 'dominant-baseline': 'middle', class: 'bar-value', text: bar.text }),
    );
  });
  const marks = [];
  if (limit !== null) {
    const x = LABEL_WIDTH + (limit / max) * plot;
    marks.push(
      svg('line', { x1: x, x2: x, y1: top - 4, y2: height, class: 'limit-line' }),
      svg('text', { x, y: 8, 'text-anchor': 'middle', 'dominant-baseline': 'middle', class: 'limit-label', text: limitText }),
    );
  }
  const description = bars.map((b) => `${b.label}: ${b.text}`).join('; ');
  return h(
    'figure',
    { class: `chart ${className}` },
    h('figcaption', { text: title }),
    svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': `${title}. ${description}${limit === null ? '' : `. ${limitText}`}` }, rows, marks),
  );
}
