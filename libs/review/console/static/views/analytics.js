// Reviewer analytics for supervisors, auditors and admins: decision time, override and edit
// rates, and rubber-stamping flags (complex items approved faster than anyone could read them).
import { Review } from '../api.js';
import { h, mount, time } from '../dom.js';

const pct = (x) => `${Math.round((x ?? 0) * 100)} %`;

function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function renderAnalytics(main, params) {
  const asked = Number(params.get('days') ?? 30);
  const days = [1, 7, 30, 90].includes(asked) ? asked : 30;
  const to = new Date();
  const from = new Date(to.getTime() - days * 86_400_000);
  const box = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  const range = h(
    'select',
    {
      id: 'a-days',
      onchange: (e) => (location.hash = `#/analytics?days=${e.target.value}`),
    },
    [1, 7, 30, 90].map((d) =>
      h('option', { value: d, selected: d === days }, d === 1 ? 'last day' : `last ${d} days`),
    ),
  );
  mount(
    main,
    h(
      'section',
      { class: 'analytics-view', 'aria-labelledby': 'analytics-title' },
      h(
        'div',
        { class: 'view-head' },
        h('h1', { id: 'analytics-title' }, 'Reviewers'),
        h('label', { for: 'a-days', class: 'muted' }, 'Period'),
        range,
      ),
      box,
    ),
  );
  Review.analytics(from.toISOString(), to.toISOString())
    .then((r) => draw(r))
    .catch((err) =>
      mount(
        box,
        h(
          'p',
          { class: 'error', role: 'alert' },
          err.status === 403
            ? 'Reviewer analytics are for supervisors, auditors and admins.'
            : `Analytics could not be read: ${err.message}`,
        ),
      ),
    );

  function draw(r) {
    mount(
      box,
      h('p', { class: 'muted' }, `${time(r.from)} – ${time(r.to)}`),
      r.reviewers.length
        ? h(
            'table',
            { class: 'card analytics', 'data-testid': 'analytics' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                [
                  'Reviewer',
                  'Decisions',
                  'Approved',
                  'Edited',
                  'Rejected',
                  'In batches',
                  'Median time',
                  'p90 time',
                  'Override rate',
                  'Rubber-stamping',
                ].map((c) => h('th', { scope: 'col' }, c)),
              ),
            ),
            h(
              'tbody',
              {},
              r.reviewers.map((x) =>
                h(
                  'tr',
                  {
                    'data-reviewer': x.reviewerId,
                    class: x.rubberStamping.suspected ? 'suspect' : undefined,
                  },
                  h('th', { scope: 'row', class: 'mono' }, x.reviewerId),
                  h('td', {}, x.decisions),
                  h('td', {}, x.approvals),
                  h('td', {}, x.edits),
                  h('td', {}, x.rejections),
                  h('td', {}, x.batchApprovals),
                  h('td', {}, duration(x.decisionTimeMs.median)),
                  h('td', {}, duration(x.decisionTimeMs.p90)),
                  h('td', {}, pct(x.overrideRate)),
                  h(
                    'td',
                    { title: x.rubberStamping.explanation },
                    x.rubberStamping.suspected
                      ? h(
                          'span',
                          { class: 'badge bad', 'data-testid': 'rubber-stamp' },
                          `suspected ${pct(x.rubberStamping.rate)}`,
                        )
                      : h('span', { class: 'muted' }, `${x.rubberStamping.flags.length} flagged`),
                  ),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No decisions in this period.'),
    );
  }
  return { dispose: () => undefined, onKey: () => false };
}
