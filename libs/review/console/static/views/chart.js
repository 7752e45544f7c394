// Risk factors as a horizontal bar chart (inline SVG, no library).
import { s } from '../dom.js';

export function riskChart(contributions, { width = 360 } = {}) {
  const rows = [...(contributions ?? [])].sort((a, b) => b.contribution - a.contribution);
  const label = 150;
  const bar = width - label - 48;
  const rowH = 20;
  const height = Math.max(rowH, rows.length * rowH) + 4;
  const max = Math.max(0.0001, ...rows.map((r) => Math.abs(r.contribution)));
  const title = rows.map((r) => `${r.factor} ${r.contribution.toFixed(3)}`).join(', ');
  return s(
    'svg',
    {
      class: 'risk-chart',
      role: 'img',
      'aria-label': `Risk factor contributions: ${title || 'none'}`,
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
    },
    rows.map((r, i) => {
      const y = i * rowH + 2;
      const w = Math.max(1, (Math.abs(r.contribution) / max) * bar);
      const level = r.contribution / max > 0.66 ? 'hi' : r.contribution / max > 0.33 ? 'mid' : 'lo';
      return s(
        'g',
        { class: `bar bar-${level}` },
        s(
          'title',
          {},
          `${r.factor}: contribution ${r.contribution.toFixed(3)}${r.value !== undefined ? `, value ${r.value}` : ''}${r.weight !== undefined ? `, weight ${r.weight}` : ''}`,
        ),
        s(
          'text',
          { x: label - 8, y: y + 13, 'text-anchor': 'end', class: 'bar-label' },
          r.factor.replace(/_/g, ' '),
        ),
        s('rect', { x: label, y: y + 3, width: w.toFixed(1), height: rowH - 8, rx: 2 }),
        s('text', { x: label + w + 6, y: y + 13, class: 'bar-value' }, r.contribution.toFixed(2)),
      );
    }),
  );
}
