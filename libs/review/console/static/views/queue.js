// The queue: filters, one dense row per task, a live SLA countdown; j/k, Enter, x.
import { Review, canDecide } from '../api.js';
import { ACTIVE, actionLabel, band, countdown, h, mount, slaState } from '../dom.js';

const STATUSES = [
  ['active', 'Open + claimed'],
  ['OPEN', 'Open'],
  ['CLAIMED', 'Claimed'],
  ['APPROVED', 'Approved'],
  ['REJECTED', 'Rejected'],
  ['EXPIRED', 'Expired'],
  ['', 'All'],
];

const ACTION_TYPES = [
  'apply_discount',
  'qualify_lead',
  'disqualify_lead',
  'update_field',
  'assign_owner',
  'create_task',
  'send_email',
  'move_opportunity_stage',
  'reply_to_case',
  'close_case',
];

export function renderQueue(main, params, { toast }) {
  const filters = {
    status: params.get('status') ?? 'active',
    team: params.get('team') ?? '',
    actionType: params.get('actionType') ?? '',
  };
  let items = [];
  let selected = 0;
  let selectedId = sessionStorage.getItem('mandate.console.rowId');
  const batch = new Set();
  const decide = canDecide();

  const statusSel = h(
    'select',
    { id: 'f-status', name: 'status' },
    STATUSES.map(([v, label]) => h('option', { value: v, selected: v === filters.status }, label)),
  );
  const teamIn = h('input', {
    id: 'f-team',
    name: 'team',
    value: filters.team,
    placeholder: 'any team',
    list: 'teams',
    autocomplete: 'off',
  });
  const typeSel = h(
    'select',
    { id: 'f-action', name: 'actionType' },
    h('option', { value: '' }, 'Any action'),
    ACTION_TYPES.map((t) =>
      h('option', { value: t, selected: t === filters.actionType }, actionLabel(t)),
    ),
  );
  const teams = h('datalist', { id: 'teams' });
  const apply = () => {
    const q = new URLSearchParams();
    if (statusSel.value !== 'active') q.set('status', statusSel.value);
    if (teamIn.value.trim()) q.set('team', teamIn.value.trim());
    if (typeSel.value) q.set('actionType', typeSel.value);
    const hash = `#/queue${q.size ? `?${q}` : ''}`;
    if (location.hash !== hash) location.hash = hash;
  };
  statusSel.addEventListener('change', apply);
  typeSel.addEventListener('change', apply);
  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      'aria-label': 'Queue filters',
      onsubmit: (e) => {
        e.preventDefault();
        apply();
      },
    },
    h('label', { for: 'f-status' }, 'Status'),
    statusSel,
    h('label', { for: 'f-team' }, 'Team'),
    teamIn,
    teams,
    h('label', { for: 'f-action' }, 'Action'),
    typeSel,
    h('button', { class: 'btn btn-quiet', type: 'submit' }, 'Apply'),
  );

  const count = h('span', { class: 'muted', 'aria-live': 'polite' });
  const batchBtn = h(
    'button',
    {
      type: 'button',
      class: 'btn',
      hidden: !decide,
      disabled: true,
      onclick: () => approveBatch(),
    },
    'Approve selected',
  );
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'queue', 'aria-label': 'Review tasks', 'aria-rowcount': 0 },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        decide
          ? h('th', { scope: 'col', class: 'narrow' }, h('span', { class: 'sr' }, 'Batch'))
          : null,
        h('th', { scope: 'col' }, 'SLA'),
        h('th', { scope: 'col' }, 'Risk'),
        h('th', { scope: 'col' }, 'Action'),
        h('th', { scope: 'col' }, 'Target'),
        h('th', { scope: 'col' }, 'Agent'),
        h('th', { scope: 'col', class: 'wide' }, 'Summary'),
        h('th', { scope: 'col' }, 'Approvals'),
        h('th', { scope: 'col' }, 'Status'),
      ),
    ),
    tbody,
  );
  const empty = h('p', { class: 'empty', hidden: true }, 'Nothing waiting here.');
  const error = h('p', { class: 'error', role: 'alert' });

  mount(
    main,
    h(
      'section',
      { class: 'queue-view', 'aria-labelledby': 'queue-title' },
      h(
        'div',
        { class: 'view-head' },
        h('h1', { id: 'queue-title' }, 'Review queue'),
        count,
        h('span', { class: 'spacer' }),
        batchBtn,
      ),
      form,
      error,
      table,
      empty,
      h(
        'p',
        { class: 'hint muted' },
        h('kbd', {}, 'j'),
        ' ',
        h('kbd', {}, 'k'),
        ' move · ',
        h('kbd', {}, 'Enter'),
        ' open · ',
        decide ? [h('kbd', {}, 'x'), ' select for batch · '] : null,
        h('kbd', {}, '?'),
        ' all shortcuts',
      ),
    ),
  );

  function open(task) {
    sessionStorage.setItem('mandate.console.rowId', task.taskId);
    location.hash = `#/task/${encodeURIComponent(task.taskId)}`;
  }

  function row(task, i) {
    const active = ACTIVE.has(task.status);
    const approvals = task.approvals?.length ?? 0;
    const box = decide
      ? h('input', {
          type: 'checkbox',
          'aria-label': `Select ${task.taskId} for batch approval`,
          checked: batch.has(task.taskId),
          disabled: !active,
          onclick: (e) => e.stopPropagation(),
          onchange: (e) => toggle(task.taskId, e.target.checked),
        })
      : null;
    return h(
      'tr',
      {
        class: `row${i === selected ? ' selected' : ''}`,
        'aria-selected': String(i === selected),
        tabindex: i === selected ? '0' : '-1',
        'data-task-id': task.taskId,
        onclick: () => open(task),
        onfocus: () => select(i, false),
      },
      box ? h('td', { class: 'narrow' }, box) : null,
      h(
        'td',
        { class: 'sla' },
        active
          ? h(
              'span',
              {
                class: `countdown sla-${slaState(task)}`,
                'data-due': task.dueAt,
                'data-warn': task.warnAt ?? '',
              },
              countdown(task.dueAt),
            )
          : h('span', { class: 'muted' }, '—'),
      ),
      h(
        'td',
        {},
        h('span', { class: `badge risk-${band(task.riskBand)}` }, band(task.riskBand) || '?'),
      ),
      h(
        'td',
        {},
        actionLabel(task.actionType),
        task.postHoc
          ? h('span', { class: 'tag', title: 'executed; review after the fact' }, 'post-hoc')
          : null,
      ),
      h('td', { class: 'mono' }, `${task.target?.objectType ?? ''} ${task.target?.recordId ?? ''}`),
      h('td', { class: 'mono' }, task.agentId),
      h('td', { class: 'wide summary', title: task.summary }, task.summary),
      h(
        'td',
        { class: `approvals${task.requiredApprovals > 1 ? ' four-eyes' : ''}` },
        `${approvals}/${task.requiredApprovals}`,
        task.requiredApprovals > 1 ? h('span', { class: 'sr' }, ' (four eyes)') : null,
      ),
      h(
        'td',
        {},
        h(
          'span',
          { class: `status status-${task.status.toLowerCase()}` },
          task.status.toLowerCase(),
        ),
        task.assigneeId ? h('span', { class: 'muted assignee' }, ` ${task.assigneeId}`) : null,
      ),
    );
  }

  function draw() {
    if (selectedId) {
      const i = items.findIndex((t) => t.taskId === selectedId);
      if (i >= 0) selected = i;
    }
    selected = Math.max(0, Math.min(selected, items.length - 1));
    const hadFocus = tbody.contains(document.activeElement);
    mount(tbody, items.map(row));
    table.setAttribute('aria-rowcount', String(items.length));
    empty.hidden = items.length > 0;
    count.textContent = `${items.length} item${items.length === 1 ? '' : 's'}`;
    mount(
      teams,
      [...new Set(items.map((t) => t.team))].map((t) => h('option', { value: t })),
    );
    if (hadFocus) focusRow();
  }

  function focusRow() {
    tbody.rows[selected]?.focus({ preventScroll: false });
  }

  function select(i, focus = true) {
    if (!items.length) return;
    selected = Math.max(0, Math.min(i, items.length - 1));
    selectedId = items[selected].taskId;
    sessionStorage.setItem('mandate.console.rowId', selectedId);
    [...tbody.rows].forEach((r, j) => {
      r.classList.toggle('selected', j === selected);
      r.setAttribute('aria-selected', String(j === selected));
      r.tabIndex = j === selected ? 0 : -1;
    });
    if (focus) focusRow();
  }

  function toggle(id, on) {
    if (on) batch.add(id);
    else batch.delete(id);
    batchBtn.disabled = batch.size === 0;
    batchBtn.textContent = batch.size ? `Approve selected (${batch.size})` : 'Approve selected';
  }

  async function approveBatch() {
    try {
      const r = await Review.batchApprove([...batch]);
      const refused = (r.items ?? []).filter((i) => !i.ok);
      toast(
        `${r.approved ?? 0} approved${refused.length ? `, ${refused.length} refused: ${refused.map((i) => `${i.taskId} (${i.reason})`).join('; ')}` : ''}`,
        refused.length ? 'error' : 'ok',
      );
      batch.clear();
      toggle('', false);
      await load();
    } catch (err) {
      toast(`Batch approval refused: ${err.message}`, 'error');
    }
  }

  async function load() {
    try {
      const base = { team: filters.team, actionType: filters.actionType, limit: '100' };
      // The API takes a comma-separated status list: "active" is open and claimed together.
      const status = filters.status === 'active' ? 'OPEN,CLAIMED' : filters.status;
      const page = await Review.list({ ...base, status });
      items = [...(page.items ?? [])].sort((a, b) =>
        String(a.dueAt).localeCompare(String(b.dueAt)),
      );
      error.textContent = '';
      draw();
    } catch (err) {
      error.textContent = `The queue could not be loaded: ${err.message}`;
    }
  }

  const tick = setInterval(() => {
    const now = Date.now();
    for (const el of main.querySelectorAll('.countdown[data-due]')) {
      el.textContent = countdown(el.dataset.due, now);
      const state = slaState({ dueAt: el.dataset.due, warnAt: el.dataset.warn || undefined }, now);
      el.className = `countdown sla-${state}`;
    }
  }, 1000);
  const refresh = setInterval(load, 5000);
  load().then(() => {
    if (document.activeElement === document.body || document.activeElement === main) focusRow();
  });

  return {
    dispose: () => {
      clearInterval(tick);
      clearInterval(refresh);
    },
    onKey: (e) => {
      switch (e.key) {
        case 'j':
        case 'ArrowDown':
          select(selected + 1);
          return true;
        case 'k':
        case 'ArrowUp':
          select(selected - 1);
          return true;
        case 'Enter':
          if (items[selected]) open(items[selected]);
          return true;
        case 'x': {
          const t = items[selected];
          if (decide && t && ACTIVE.has(t.status)) {
            toggle(t.taskId, !batch.has(t.taskId));
            draw();
          }
          return true;
        }
        case '/':
          statusSel.focus();
          return true;
        default:
          return false;
      }
    },
  };
}
