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
