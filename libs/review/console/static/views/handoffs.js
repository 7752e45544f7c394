// Hand-offs: work an agent gave up on (ambiguous records, spent budgets, repeated denials), for a
// person to take over in the CRM. Claim it, do the work, resolve it as done or dismissed.
import { HandOffs, canDecide, session } from '../api.js';
import { h, mount, time } from '../dom.js';

const STATUSES = [
  ['OPEN,CLAIMED', 'Open + claimed'],
  ['DONE,DISMISSED', 'Resolved'],
  ['OPEN,CLAIMED,DONE,DISMISSED', 'All'],
];

export function renderHandOffs(main, params, { toast }) {
  const status = params.get('status') ?? 'OPEN,CLAIMED';
  const openId = params.get('id');
  const decide = canDecide();
  let disposed = false;
  const list = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  const detail = h('div', { class: 'handoff-detail' });
  const statusSel = h(
    'select',
    {
      id: 'h-status',
      onchange: (e) =>
        (location.hash = `#/handoffs?${new URLSearchParams({ status: e.target.value })}`),
    },
    STATUSES.map(([v, label]) => h('option', { value: v, selected: v === status }, label)),
  );
  mount(
    main,
    h(
      'section',
      { class: 'handoffs-view', 'aria-labelledby': 'handoffs-title' },
      h(
        'div',
        { class: 'view-head' },
        h('h1', { id: 'handoffs-title' }, 'Hand-offs'),
        h('label', { for: 'h-status', class: 'muted' }, 'Status'),
        statusSel,
      ),
      h(
        'p',
        { class: 'muted' },
        'Work an agent handed to people: it will not act on these. Take one over, do it in the CRM, then resolve it.',
      ),
      h(
        'div',
        { class: 'grid' },
        h('div', { class: 'col' }, list),
        h('div', { class: 'col' }, detail),
      ),
    ),
  );

  const go = (id) =>
    (location.hash = `#/handoffs?${new URLSearchParams({ status, ...(id ? { id } : {}) })}`);

  async function load() {
    try {
      const { items } = await HandOffs.list(status);
      if (disposed) return;
      mount(
        list,
        items.length
          ? h(
              'ul',
              { class: 'handoffs', 'data-testid': 'handoffs' },
              items.map((x) =>
                h(
                  'li',
                  {
                    class: `card handoff${x.handoffId === openId ? ' selected' : ''}`,
                    'data-handoff-id': x.handoffId,
                  },
                  h(
                    'a',
                    { href: `#/handoffs?${new URLSearchParams({ status, id: x.handoffId })}` },
                    h('strong', { class: 'mono' }, x.agentId),
                    ` · ${x.objective || 'hand-off'} `,
                    h(
                      'span',
                      { class: `status status-${x.status.toLowerCase()}` },
                      x.status.toLowerCase(),
                    ),
                  ),
                  h('p', { class: 'small' }, x.reason),
                  h(
                    'span',
                    { class: 'muted small' },
                    `${time(x.handedOffAt)}${x.assigneeId ? ` · claimed by ${x.assigneeId}` : ''}`,
                  ),
                ),
              ),
            )
          : h('p', { class: 'empty' }, 'Nothing handed off.'),
      );
      if (openId) await show(openId);
      else mount(detail, h('p', { class: 'muted' }, 'Choose a hand-off.'));
    } catch (err) {
      if (!disposed)
        mount(
          list,
          h('p', { class: 'error', role: 'alert' }, `Hand-offs could not be read: ${err.message}`),
        );
    }
  }

  async function act(label, fn) {
    try {
      await fn();
      toast(`${label}: done.`, 'ok');
      await load();
    } catch (err) {
      toast(`${label} refused (${err.status || 'network'}): ${err.message}`, 'error');
    }
  }

  async function show(id) {
    let x;
    try {
      x = await HandOffs.get(id);
    } catch (err) {
      mount(
        detail,
        h(
          'p',
          { class: 'error', role: 'alert' },
          `No hand-off ${id} for you here (${err.message}).`,
        ),
      );
      return;
    }
    if (disposed) return;
    const active = x.status === 'OPEN' || x.status === 'CLAIMED';
    const mine = x.status === 'CLAIMED' && x.assigneeId === session.me.id;
    const note = h('textarea', {
      id: 'h-note',
      rows: 2,
      placeholder: 'what you did (not shown to the agent)',
    });
    const outcome = h(
      'select',
      { id: 'h-outcome' },
      h('option', { value: 'DONE' }, 'done: handled in the CRM'),
      h('option', { value: 'DISMISSED' }, 'dismissed: nothing to do'),
    );
    mount(
      detail,
      h(
        'article',
        { class: 'card', 'data-testid': 'handoff', 'data-status': x.status },
        h('h2', {}, `${x.agentId}: ${x.objective || 'hand-off'}`),
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'Why'),
          h('dd', { 'data-testid': 'handoff-reason' }, x.reason),
          h('dt', {}, 'Target'),
          h('dd', { class: 'mono' }, `${x.target.objectType} ${x.target.recordId}`),
          h('dt', {}, 'Candidates'),
          h(
            'dd',
            { 'data-testid': 'handoff-candidates' },
            x.candidates?.length
              ? h(
                  'ul',
                  { class: 'chips' },
                  x.candidates.map((c) => h('li', { class: 'chip mono' }, c)),
                )
              : h('span', { class: 'muted' }, 'none'),
          ),
          h('dt', {}, 'Steps'),
          h(
            'dd',
            {},
            x.steps?.length
              ? h(
                  'ol',
                  { class: 'log' },
                  x.steps.map((s) =>
                    h(
                      'li',
                      {},
                      `${s.actionType}: ${s.status}${s.reasons?.length ? ` (${s.reasons.join(', ')})` : ''}`,
                    ),
                  ),
                )
              : h('span', { class: 'muted' }, 'none proposed'),
          ),
          h('dt', {}, 'Trail'),
          h(
            'dd',
            {},
            h(
              'a',
              { href: `#/ledger?${new URLSearchParams({ correlationId: x.correlationId })}` },
              'the ledger chain',
            ),
          ),
        ),
        x.resolution
          ? h(
              'p',
              { 'data-testid': 'handoff-resolution' },
              h('strong', {}, x.resolution.outcome.toLowerCase()),
              ` by ${x.resolution.reviewerId}, ${time(x.resolution.at)}`,
              x.resolution.note ? ` — ${x.resolution.note}` : '',
            )
          : null,
        decide && active
          ? h(
              'form',
              {
                class: 'panel',
                'aria-label': 'Resolve',
                onsubmit: (e) => {
                  e.preventDefault();
                  act('Resolution', () =>
                    HandOffs.resolve(id, {
                      outcome: outcome.value,
                      ...(note.value.trim() ? { note: note.value.trim() } : {}),
                    }),
                  );
                },
              },
              h(
                'div',
                { class: 'panel-actions' },
                h(
                  'button',
                  {
                    class: 'btn btn-quiet',
                    type: 'button',
                    onclick: () =>
                      act(mine ? 'Release' : 'Claim', () =>
                        mine ? HandOffs.release(id) : HandOffs.claim(id),
                      ),
                  },
                  mine ? 'Release' : 'Take over',
                ),
              ),
              h('label', { for: 'h-outcome' }, 'Outcome'),
              outcome,
              h('label', { for: 'h-note' }, 'Note'),
              note,
              h(
                'div',
                { class: 'panel-actions' },
                h('button', { class: 'btn btn-approve', type: 'submit' }, 'Resolve'),
              ),
            )
          : !decide
            ? h('p', { class: 'muted', 'data-testid': 'read-only' }, 'Read-only for your role.')
            : null,
      ),
    );
  }

  load();
  return {
    dispose: () => {
      disposed = true;
    },
    onKey: (e) => {
      if (e.key === 'Escape' && openId) {
        go();
        return true;
      }
      return false;
    },
  };
}
