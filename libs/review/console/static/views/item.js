// One task: the evidence a reviewer needs, and the decision (a, r, e, c, m; u or Esc goes back).
import { Agents, Review, canDecide, session } from '../api.js';
import {
  ACTIVE,
  actionKey,
  actionLabel,
  band,
  countdown,
  h,
  isMoney,
  mount,
  slaState,
  time,
  value,
} from '../dom.js';
import { trustChart } from './agents.js';
import { renderChain } from './chain.js';
import { riskChart } from './chart.js';

const REASON_CODES = [
  'WRONG_AMOUNT',
  'POLICY_BREACH',
  'INSUFFICIENT_EVIDENCE',
  'WRONG_RECORD',
  'CUSTOMER_NOT_ELIGIBLE',
  'DUPLICATE',
  'OTHER',
];

const REDACTED = '•••';

/** Rows of the diff: what the action changes on the record (current → proposed). */
export function changes(action, record) {
  const f = action?.fields ?? {};
  const rec = record?.fields ?? {};
  const known = (field, to, from = rec[field]) => ({ field, from, to, known: field in rec });
  switch (action?.type) {
    case 'update_field':
      return [known(f.field, f.value, rec[f.field] ?? f.previousValue)];
    case 'move_opportunity_stage':
      return [known('stage', f.toStage, rec.stage ?? f.fromStage)];
    case 'qualify_lead':
      return [known('status', 'Qualified'), known('score', f.score), known('reason', f.reason)];
    case 'disqualify_lead':
      return [
        known('status', 'Disqualified'),
        known('reasonCode', f.reasonCode),
        known('reason', f.reason),
      ];
    case 'assign_owner':
      return [known('ownerId', f.ownerId), known('reason', f.reason)];
    default:
      return Object.entries(f).map(([k, v]) => known(k, v));
  }
}

export function renderItem(main, taskId, { toast }) {
  let task;
  let panel = null;
  const decide = canDecide();
  const result = h('div', { class: 'result', role: 'alert', 'data-testid': 'decision-result' });
  const tick = setInterval(() => {
    const el = main.querySelector('.countdown[data-due]');
    if (!el || !task) return;
    el.textContent = countdown(task.dueAt);
    el.className = `countdown sla-${slaState(task)}`;
  }, 1000);

  async function load() {
    try {
      task = await Review.get(taskId);
      draw();
    } catch (err) {
      mount(
        main,
        h(
          'section',
          { class: 'item-view' },
          h('p', {}, h('a', { href: '#/queue' }, '← Queue')),
          h(
            'p',
            { class: 'error', role: 'alert' },
            err.status === 404 || err.status === 403
              ? `No task ${taskId} for you here (${err.message}).`
              : `The task could not be loaded: ${err.message}`,
          ),
        ),
      );
    }
  }

  function showResult(message, kind) {
    result.className = `result ${kind}`;
    result.textContent = message;
  }

  async function act(label, fn) {
    try {
      const r = await fn();
      panel = null;
      await load();
      loadAudit();
      showResult(describe(r, label), r?.effect === 'denied-by-policy' ? 'error' : 'ok');
      return r;
    } catch (err) {
      showResult(`${label} refused (${err.status || 'network'}): ${err.message}`, 'error');
      return undefined;
    }
  }

  function describe(r, label) {
    if (!r || !r.effect) return `${label}: done.`;
    const by = (r.approvedBy ?? []).join(', ');
    switch (r.effect) {
      case 'approved':
        return `Approved${by ? ` by ${by}` : ''}: the action is released for execution.`;
      case 'pending-approvals':
        return `Approval recorded (${(r.approvedBy ?? []).length} of ${r.requiredApprovals}): a second, different reviewer must approve.`;
      case 'rejected':
        return 'Rejected: the agent is told and nothing reaches the CRM.';
      case 'denied-by-policy':
        return `Policy's re-check denied the action${r.reasons?.length ? `: ${r.reasons.join(', ')}` : ''}. Nothing reaches the CRM.`;
      case 'expired':
        return 'The task had expired and failed safe.';
      default:
        return `${label}: ${r.effect} (${r.status}).`;
    }
  }

  function openPanel(kind) {
    if (!task) return;
    if (kind !== 'comment' && !(decide && ACTIVE.has(task.status))) return;
    panel = kind;
    draw();
    (
      main.querySelector('.panel [autofocus]') ??
      main.querySelector('.panel input, .panel textarea, .panel button')
    )?.focus();
  }

  function approvePanel() {
    const comment = h('textarea', { id: 'approve-comment', rows: 2, placeholder: 'optional' });
    return h(
      'form',
      {
        class: 'panel',
        'aria-label': 'Approve',
        onsubmit: (e) => {
          e.preventDefault();
          act('Approval', () =>
            Review.decide(taskId, {
              outcome: 'APPROVE',
              ...(comment.value.trim() ? { comment: comment.value.trim() } : {}),
            }),
          );
        },
      },
      h('h3', {}, 'Approve the action as proposed'),
      h('label', { for: 'approve-comment' }, 'Comment'),
      comment,
      h(
        'div',
        { class: 'panel-actions' },
        h(
          'button',
          { class: 'btn btn-approve', type: 'submit', autofocus: true },
          'Confirm approval',
        ),
        h('button', { class: 'btn btn-quiet', type: 'button', onclick: closePanel }, 'Cancel'),
      ),
    );
  }

  function rejectPanel() {
    const code = h('input', {
      id: 'reject-code',
      list: 'reason-codes',
      required: true,
      pattern: '[A-Z][A-Z0-9_]{1,63}',
      placeholder: 'e.g. WRONG_AMOUNT',
      autocomplete: 'off',
      title: 'UPPER_SNAKE_CASE reason code',
    });
    const comment = h('textarea', { id: 'reject-comment', rows: 2, placeholder: 'why (optional)' });
    return h(
      'form',
      {
        class: 'panel',
        'aria-label': 'Reject',
        onsubmit: (e) => {
          e.preventDefault();
          act('Rejection', () =>
            Review.decide(taskId, {
              outcome: 'REJECT',
              reasonCode: code.value.trim(),
              ...(comment.value.trim() ? { comment: comment.value.trim() } : {}),
            }),
          );
        },
      },
      h('h3', {}, 'Reject'),
      h('label', { for: 'reject-code' }, 'Reason code'),
      code,
      h(
        'datalist',
        { id: 'reason-codes' },
        REASON_CODES.map((c) => h('option', { value: c })),
      ),
      h('label', { for: 'reject-comment' }, 'Comment'),
      comment,
      h(
        'div',
        { class: 'panel-actions' },
        h('button', { class: 'btn btn-reject', type: 'submit' }, 'Reject'),
        h('button', { class: 'btn btn-quiet', type: 'button', onclick: closePanel }, 'Cancel'),
      ),
    );
  }

  function editPanel() {
    const action = task.proposal.action;
    const inputs = [];
    const rows = Object.entries(action.fields).map(([name, v]) => {
      const id = `edit-${name}`;
      if (v !== null && typeof v === 'object')
        return h(
          'div',
          { class: 'field' },
          h('span', { class: 'field-name' }, name),
          h('span', { class: 'mono muted' }, value(v), ' (kept)'),
        );
      const input =
        typeof v === 'boolean'
          ? h('input', { id, type: 'checkbox', checked: v })
          : typeof v === 'number'
            ? h('input', { id, type: 'number', step: 'any', value: v, inputmode: 'decimal' })
            : String(v).length > 60
              ? h('textarea', { id, rows: 3, text: v })
              : h('input', { id, value: v });
      inputs.push([name, v, input]);
      return h(
        'div',
        { class: 'field' },
        h('label', { for: id, class: 'field-name' }, name),
        input,
      );
    });
    const comment = h('textarea', {
      id: 'edit-comment',
      rows: 2,
      placeholder: 'why the edit (optional)',
    });
    return h(
      'form',
      {
        class: 'panel',
        'aria-label': 'Edit, then approve',
        onsubmit: (e) => {
          e.preventDefault();
          const fields = { ...action.fields };
          for (const [name, original, input] of inputs)
            fields[name] =
              typeof original === 'boolean'
                ? input.checked
                : typeof original === 'number'
                  ? Number(input.value)
                  : input.value;
          act('Edit and approval', () =>
            Review.decide(taskId, {
              outcome: 'EDIT_APPROVE',
              editedAction: { [actionKey(action.type)]: fields },
              ...(comment.value.trim() ? { comment: comment.value.trim() } : {}),
            }),
          );
        },
      },
      h('h3', {}, `Edit ${actionLabel(action.type)}, then approve`),
      h('p', { class: 'muted' }, 'Policy re-checks the edited action; its verdict stands.'),
      rows,
      h('label', { for: 'edit-comment' }, 'Comment'),
      comment,
      h(
        'div',
        { class: 'panel-actions' },
        h('button', { class: 'btn btn-approve', type: 'submit' }, 'Approve edited action'),
        h('button', { class: 'btn btn-quiet', type: 'button', onclick: closePanel }, 'Cancel'),
      ),
    );
  }

  function commentPanel() {
    const text = h('textarea', { id: 'comment-text', rows: 3, required: true });
    return h(
      'form',
      {
        class: 'panel',
        'aria-label': 'Comment',
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            await Review.comment(taskId, text.value.trim());
            panel = null;
            await load();
            toast('Comment added.', 'ok');
          } catch (err) {
            showResult(`Comment refused (${err.status}): ${err.message}`, 'error');
          }
        },
      },
      h('label', { for: 'comment-text' }, 'Comment'),
      text,
      h(
        'div',
        { class: 'panel-actions' },
        h('button', { class: 'btn', type: 'submit' }, 'Add comment'),
        h('button', { class: 'btn btn-quiet', type: 'button', onclick: closePanel }, 'Cancel'),
      ),
    );
  }

  function closePanel() {
    panel = null;
    draw();
    main.querySelector('.decision-bar button')?.focus();
  }

  function claimToggle() {
    if (!task || !decide || !ACTIVE.has(task.status)) return;
    const mine = task.status === 'CLAIMED' && task.assigneeId === session.me.id;
    act(mine ? 'Release' : 'Claim', () => (mine ? Review.release(taskId) : Review.claim(taskId)));
  }

  function decisionBar() {
    const active = ACTIVE.has(task.status);
    if (!decide)
      return h(
        'div',
        { class: 'decision-bar readonly', 'data-testid': 'read-only' },
        h(
          'p',
          { class: 'muted' },
          `Read-only: ${session.me.roles.join(', ') || 'no role'}s review the record, they do not decide.`,
        ),
        h(
          'button',
          { class: 'btn btn-quiet', type: 'button', onclick: () => openPanel('comment') },
          'Comment ',
          h('kbd', {}, 'c'),
        ),
      );
    if (!active)
      return h(
        'div',
        { class: 'decision-bar' },
        h('p', { class: 'muted' }, `Closed: ${task.status.toLowerCase()}.`),
        h(
          'button',
          { class: 'btn btn-quiet', type: 'button', onclick: () => openPanel('comment') },
          'Comment ',
          h('kbd', {}, 'c'),
        ),
      );
    const mine = task.status === 'CLAIMED' && task.assigneeId === session.me.id;
    const btn = (label, key, cls, fn) =>
      h(
        'button',
        { class: `btn ${cls}`, type: 'button', onclick: fn, 'aria-keyshortcuts': key },
        label,
        ' ',
        h('kbd', {}, key),
      );
    return h(
      'div',
      { class: 'decision-bar', role: 'toolbar', 'aria-label': 'Decision' },
      btn('Approve', 'a', 'btn-approve', () => openPanel('approve')),
      btn('Reject', 'r', 'btn-reject', () => openPanel('reject')),
      btn('Edit & approve', 'e', '', () => openPanel('edit')),
      btn('Comment', 'c', 'btn-quiet', () => openPanel('comment')),
      btn(mine ? 'Release' : 'Claim', 'm', 'btn-quiet', claimToggle),
    );
  }

  function section(title, ...children) {
    const id = `s-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
    return h(
      'section',
      { class: 'card', 'aria-labelledby': id },
      h('h2', { id }, title),
      ...children,
    );
  }

  function diffTable() {
    const rows = changes(task.proposal.action, task.record);
    return h(
      'table',
      { class: 'diff', 'data-testid': 'diff' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Field'),
          h('th', { scope: 'col' }, 'Current'),
          h('th', { scope: 'col' }, 'Proposed'),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            { 'data-field': r.field },
            h('th', { scope: 'row', class: 'mono' }, r.field),
            r.known && String(r.from) === String(r.to)
              ? h(
                  'td',
                  { class: 'same' },
                  value(r.from),
                  h('span', { class: 'muted' }, ' (already)'),
                )
              : h(
                  'td',
                  { class: r.known ? 'from' : 'muted' },
                  r.known ? value(r.from) : 'not a record field',
                ),
            h(
              'td',
              { class: r.known ? 'to' : 'to-detail' },
              h('span', { class: 'arrow', 'aria-hidden': 'true' }, '→ '),
              value(r.to),
            ),
          ),
        ),
      ),
    );
  }

  function recordTable() {
    if (!task.record) return h('p', { class: 'muted' }, 'The record could not be read.');
    const entries = Object.entries(task.record.fields ?? {}).sort(([a], [b]) => a.localeCompare(b));
    return h(
      'table',
      { class: 'kv', 'data-testid': 'record' },
      h(
        'tbody',
        {},
        entries.map(([k, v]) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, k),
            v === REDACTED
              ? h(
                  'td',
                  { class: 'redacted', title: 'personal data: not shown to your role' },
                  REDACTED,
                )
              : h('td', {}, isMoney(v) ? value(v) : value(v)),
          ),
        ),
      ),
    );
  }

  function chips(list, cls) {
    return list?.length
      ? h(
          'ul',
          { class: 'chips' },
          list.map((x) => h('li', { class: `chip ${cls}` }, x)),
        )
      : h('span', { class: 'muted' }, 'none');
  }

  /**
   * After approval: the execution as the ledger records it (the connector's EXECUTION entry),
   * then the record's values as this reader may see them (personal fields stay masked).
   */
  const crmBox = h(
    'div',
    { class: 'crm-now', 'aria-live': 'polite', 'data-testid': 'crm-now' },
    h('span', { class: 'muted' }, 'Waiting for the execution…'),
  );
  function inCrm() {
    return crmBox;
  }

  async function showExecution(execution) {
    const status = (execution.attributes?.status ?? '')
      .replace('EXECUTION_STATUS_', '')
      .toLowerCase();
    const ok = status === 'executed';
    let values = '';
    try {
      const now = await Review.get(taskId);
      const fields = now.record?.fields ?? {};
      values = changes(task.proposal.action, task.record)
        .filter((r) => r.known)
        .map((r) => `${r.field} = ${value(fields[r.field])}`)
        .join(', ');
    } catch (err) {
      values = `the record could not be read (${err.message})`;
    }
    mount(
      crmBox,
      h(
        'p',
        {},
        h('span', { class: `badge ${ok ? 'ok' : 'bad'}` }, status || 'execution recorded'),
        ` ${values}`,
      ),
    );
  }

  const trendBox = h('div', { class: 'trend', 'data-testid': 'trust-trend' }, '…');
  /** The agent's trust for this action type over time (policy's oversight view). */
  async function loadTrend() {
    try {
      const agentId = task.proposal?.agentId || task.agentId;
      const view = await Agents.list(agentId);
      const agent = view.agents.find((a) => a.agentId === agentId);
      const row = agent?.actionTypes.find((x) => x.actionType === task.actionType);
      mount(
        trendBox,
        row
          ? [
              trustChart(row.history, { width: 180, height: 36 }),
              h(
                'span',
                { class: 'muted small' },
                ` now ${row.trust.score.toFixed(2)} (${band(row.trust.band)})`,
              ),
            ]
          : h('span', { class: 'muted small' }, 'no track record yet'),
      );
    } catch (err) {
      mount(trendBox, h('span', { class: 'muted small' }, `not available (${err.message})`));
    }
  }

  const auditBox = h('div', { class: 'audit', 'aria-live': 'polite', 'data-testid': 'audit' });
  let auditPoll;
  let disposed = false;
  /**
   * The item's audit trail. Re-read every second (at most a minute) while an approved action
   * has not been executed yet or entries still await a signed checkpoint.
   */
  async function loadAudit(tries = 0) {
    clearTimeout(auditPoll);
    if (disposed) return;
    let chain;
    try {
      chain = await Review.audit(taskId);
    } catch (err) {
      if (!disposed)
        mount(
          auditBox,
          h('p', { class: 'muted' }, `The audit trail could not be read (${err.message}).`),
        );
      return;
    }
    if (disposed) return;
    await renderChain(auditBox, chain, {
      link: `#/ledger?${new URLSearchParams({ correlationId: chain.correlationId })}`,
    });
    const all = [...chain.entries, ...(chain.pending ?? [])];
    const execution = all.filter((e) => e.kind === 'EXECUTION').pop();
    if (execution && task?.status === 'APPROVED') await showExecution(execution);
    const waiting = (task?.status === 'APPROVED' && !execution) || chain.pending?.length > 0;
    if (waiting && tries < 60 && !disposed)
      auditPoll = setTimeout(() => loadAudit(tries + 1), 1000);
  }

  function draw() {
    const t = task;
    const e = t.decision?.explanation ?? {};
    const p = t.proposal ?? {};
    const active = ACTIVE.has(t.status);
    const approvals = t.approvals ?? [];
    const panels = {
      approve: approvePanel,
      reject: rejectPanel,
      edit: editPanel,
      comment: commentPanel,
    };
    mount(
      main,
      h(
        'article',
        { class: 'item-view', 'aria-labelledby': 'item-title', 'data-status': t.status },
        h(
          'div',
          { class: 'view-head' },
          h('a', { href: '#/queue', class: 'back', 'aria-keyshortcuts': 'u' }, '← Queue'),
          h(
            'h1',
            { id: 'item-title' },
            actionLabel(p.action?.type || t.actionType),
            h('span', { class: 'muted' }, ` on ${t.target.objectType} `),
            h('span', { class: 'mono' }, t.target.recordId),
          ),
          h(
            'span',
            { class: `badge risk-${band(t.riskBand)}`, title: 'risk band' },
            band(t.riskBand),
          ),
          h(
            'span',
            { class: `status status-${t.status.toLowerCase()}`, 'data-testid': 'status' },
            t.status.toLowerCase(),
          ),
          active
            ? h(
                'span',
                {
                  class: `countdown sla-${slaState(t)}`,
                  'data-due': t.dueAt,
                  title: `due ${time(t.dueAt)}`,
                },
                countdown(t.dueAt),
              )
            : null,
          h(
            'span',
            {
              class: 'approvals',
              'data-testid': 'approvals',
              title: approvals.map((a) => a.reviewerId).join(', '),
            },
            `${approvals.length}/${t.requiredApprovals} approvals`,
            t.requiredApprovals > 1 ? ' (four eyes)' : '',
          ),
          t.assigneeId ? h('span', { class: 'muted' }, `claimed by ${t.assigneeId}`) : null,
        ),
        decisionBar(),
        panel ? panels[panel]() : null,
        result,
        h(
          'div',
          { class: 'grid' },
          h(
            'div',
            { class: 'col' },
            section('Proposed change', diffTable(), t.status === 'APPROVED' ? inCrm() : null),
            section(
              "Agent's rationale",
              h('blockquote', { class: 'rationale' }, p.rationale || '—'),
              h(
                'dl',
                { class: 'facts' },
                h('dt', {}, 'Agent'),
                h('dd', { class: 'mono' }, p.agentId || t.agentId),
                h('dt', {}, 'Confidence'),
                h(
                  'dd',
                  {},
                  p.confidence !== undefined ? `${Math.round(p.confidence * 100)} %` : '—',
                ),
                h('dt', {}, 'Prompt'),
                h(
                  'dd',
                  { class: 'mono' },
                  `${p.prompt?.promptId}@${p.prompt?.version}`,
                  ' ',
                  h(
                    'span',
                    { class: 'hash', title: p.prompt?.contentHash },
                    String(p.prompt?.contentHash ?? '').slice(0, 12),
                  ),
                ),
                h('dt', {}, 'Model'),
                h(
                  'dd',
                  { 'data-testid': 'model' },
                  p.model?.offline
                    ? h('span', { class: 'tag' }, 'offline rules (not an LLM)')
                    : `${p.model?.provider} / ${p.model?.model}`,
                ),
              ),
            ),
            section(`CRM record · ${t.target.objectType} ${t.target.recordId}`, recordTable()),
          ),
          h(
            'div',
            { class: 'col' },
            section(
              'Risk',
              h(
                'p',
                {},
                h(
                  'span',
                  { class: `badge risk-${band(e.riskBand || t.riskBand)}` },
                  band(e.riskBand || t.riskBand),
                ),
                ` score ${(e.riskScore ?? 0).toFixed(2)}`,
              ),
              riskChart(e.riskContributions),
            ),
            section(
              'Policy',
              h(
                'dl',
                { class: 'facts' },
                h('dt', {}, 'Verdict'),
                h('dd', { class: 'mono' }, t.decision?.verdict ?? t.verdict),
                h('dt', {}, 'Policies'),
                h('dd', {}, chips(e.policiesMatched, 'policy')),
                h('dt', {}, 'Reasons'),
                h('dd', {}, chips(e.reasonCodes, 'reason')),
                h('dt', {}, 'Trust'),
                h(
                  'dd',
                  {},
                  `${(e.trustScore ?? 0).toFixed(2)} `,
                  h('span', { class: 'tag' }, band(e.trustBand) || '—'),
                  h('span', { class: 'muted small' }, ' at decision time'),
                ),
                h('dt', {}, 'Trend'),
                h('dd', {}, trendBox),
              ),
              e.summary ? h('p', { class: 'muted small' }, e.summary) : null,
            ),
            section(
              'Reviews and comments',
              t.reviews?.length
                ? h(
                    'ul',
                    { class: 'log' },
                    t.reviews.map((r) =>
                      h(
                        'li',
                        {},
                        h('time', { datetime: r.at }, time(r.at)),
                        h('strong', {}, r.reviewerId),
                        ` ${r.outcome.toLowerCase().replace('_', ' ')} `,
                        h('span', { class: 'mono muted' }, r.reasonCode),
                        r.effect ? h('span', { class: 'muted' }, ` → ${r.effect}`) : null,
                      ),
                    ),
                  )
                : h('p', { class: 'muted' }, 'No decision yet.'),
              t.comments?.length
                ? h(
                    'ul',
                    { class: 'log comments' },
                    t.comments.map((c) =>
                      h(
                        'li',
                        {},
                        h('time', { datetime: c.at }, time(c.at)),
                        h('strong', {}, c.authorId),
                        ' ',
                        c.text,
                      ),
                    ),
                  )
                : null,
            ),
            section(
              'History',
              h(
                'ol',
                { class: 'log history', 'data-testid': 'history' },
                (t.history ?? []).map((x) =>
                  h(
                    'li',
                    {},
                    h('time', { datetime: x.at }, time(x.at)),
                    h('span', { class: 'tag' }, x.kind.replace(/_/g, ' ')),
                    ' ',
                    x.summary,
                  ),
                ),
              ),
            ),
          ),
        ),
        section('Audit trail', auditBox),
      ),
    );
  }

  load().then(() => {
    main.focus({ preventScroll: true });
    if (task) {
      loadAudit();
      loadTrend();
    }
  });

  return {
    dispose: () => {
      clearInterval(tick);
      disposed = true;
      clearTimeout(auditPoll);
    },
    onKey: (e) => {
      switch (e.key) {
        case 'a':
          openPanel('approve');
          return true;
        case 'r':
          openPanel('reject');
          return true;
        case 'e':
          openPanel('edit');
          return true;
        case 'c':
          openPanel('comment');
          return true;
        case 'm':
          claimToggle();
          return true;
        case 'Escape':
          if (panel) closePanel();
          else location.hash = '#/queue';
          return true;
        case 'u':
          location.hash = '#/queue';
          return true;
        default:
          return false;
      }
    },
  };
}
