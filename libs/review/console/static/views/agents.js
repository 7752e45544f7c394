// The agents view: per agent, trust over time, autonomy per risk band, breakers, kill switches;
// the kill switch itself for the tenant's admin.
import { Agents, session } from '../api.js';
import { band, h, mount, s, time } from '../dom.js';

const VERDICT_CLASS = {
  AUTO: 'v-auto',
  AUTO_WITH_NOTICE: 'v-notice',
  APPROVE_1: 'v-approve1',
  APPROVE_2: 'v-approve2',
  DENY: 'v-deny',
};

const isAdmin = () => {
  const roles = session.me?.roles ?? [];
  return roles.includes('admin') && !roles.includes('auditor');
};

/** Trust score over time (0..1) as a small line chart. */
export function trustChart(history, { width = 220, height = 44 } = {}) {
  const pts = history ?? [];
  if (pts.length === 0)
    return h('span', { class: 'muted small', 'data-testid': 'no-history' }, 'no history yet');
  const t0 = new Date(pts[0].at).getTime();
  const t1 = new Date(pts[pts.length - 1].at).getTime();
  const span = Math.max(1, t1 - t0);
  const x = (p) =>
    pts.length === 1 ? width / 2 : ((new Date(p.at).getTime() - t0) / span) * (width - 4) + 2;
  const y = (p) => height - 2 - p.score * (height - 4);
  const line = pts.map((p) => `${x(p).toFixed(1)},${y(p).toFixed(1)}`).join(' ');
  const last = pts[pts.length - 1];
  return s(
    'svg',
    {
      class: 'trust-chart',
      role: 'img',
      'aria-label': `Trust from ${pts[0].score.toFixed(2)} to ${last.score.toFixed(2)} over ${pts.length} outcomes`,
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      'data-points': pts.length,
    },
    s('line', { x1: 0, x2: width, y1: y({ score: 0.5 }), y2: y({ score: 0.5 }), class: 'mid' }),
    s('polyline', { points: line, class: 'trust-line' }),
    s('circle', { cx: x(last), cy: y(last), r: 2.5, class: 'trust-dot' }),
    s(
      'title',
      {},
      `${time(pts[0].at)} → ${time(last.at)}: ${last.score.toFixed(2)} (${band(last.band)})`,
    ),
  );
}

function verdict(v, title) {
  return h(
    'span',
    { class: `verdict ${VERDICT_CLASS[v] ?? ''}`, title },
    v.replace(/_/g, ' ').toLowerCase(),
  );
}

function switchLabel(k) {
  const where =
    k.scope === 'global'
      ? 'everything'
      : k.scope === 'tenant'
        ? `all agents of ${k.tenantId}`
        : k.scope === 'agent'
          ? k.agentId
          : `${k.agentId ?? 'any agent'} · ${k.actionType}`;
  return `${k.mode === 'deny' ? 'Stopped' : 'Approval required'}: ${where}`;
}

export function renderAgents(main, { toast }) {
  let view;
  let form = null;
  let disposed = false;

  async function load() {
    try {
      const next = await Agents.list();
      if (disposed) return;
      view = next;
      draw();
    } catch (err) {
      if (disposed) return;
      mount(
        main,
        h('p', { class: 'error', role: 'alert' }, `The agents could not be read: ${err.message}`),
      );
    }
  }

  async function act(label, fn) {
    try {
      await fn();
      form = null;
      toast(`${label}: done.`, 'ok');
      await load();
    } catch (err) {
      toast(`${label} refused (${err.status || 'network'}): ${err.message}`, 'error');
    }
  }

  function switchForm(target) {
    const reason = h('input', {
      id: 'ks-reason',
      required: true,
      placeholder: 'why (audited)',
      autocomplete: 'off',
    });
    const mode = h(
      'select',
      { id: 'ks-mode' },
      h('option', { value: 'deny' }, 'stop: deny every action'),
      h('option', { value: 'require_approval' }, 'hold: every action needs approval'),
    );
    return h(
      'form',
      {
        class: 'panel',
        'aria-label': 'Kill switch',
        'data-testid': 'kill-switch-form',
        onsubmit: (e) => {
          e.preventDefault();
          act('Kill switch', () =>
            Agents.engage({ ...target, mode: mode.value, reason: reason.value.trim() }),
          );
        },
      },
      h('h3', {}, `Kill switch: ${target.scope === 'tenant' ? 'every agent' : target.agentId}`),
      h('label', { for: 'ks-mode' }, 'Mode'),
      mode,
      h('label', { for: 'ks-reason' }, 'Reason'),
      reason,
      h(
        'div',
        { class: 'panel-actions' },
        h('button', { class: 'btn btn-reject', type: 'submit' }, 'Engage kill switch'),
        h(
          'button',
          { class: 'btn btn-quiet', type: 'button', onclick: () => ((form = null), draw()) },
          'Cancel',
        ),
      ),
    );
  }

  function releaseButton(k) {
    if (!isAdmin() || k.scope === 'global' || k.tenantId !== session.me.tenantId) return null;
    return h(
      'button',
      {
        class: 'btn btn-quiet',
        type: 'button',
        onclick: () => {
          const reason = window.prompt(`Release "${switchLabel(k)}"? Reason (audited):`);
          if (reason && reason.trim())
            act('Release', () =>
              Agents.release({
                scope: k.scope,
                ...(k.agentId ? { agentId: k.agentId } : {}),
                ...(k.actionType ? { actionType: k.actionType } : {}),
                reason: reason.trim(),
              }),
            );
        },
      },
      'Release',
    );
  }

  function switches(list) {
    return list.length
      ? h(
          'ul',
          { class: 'switches', 'data-testid': 'kill-switches' },
          list.map((k) =>
            h(
              'li',
              { class: `switch mode-${k.mode}` },
              h('strong', {}, switchLabel(k)),
              h('span', { class: 'muted' }, ` — ${k.reason} (${k.setBy}, ${time(k.setAt)}) `),
              releaseButton(k),
            ),
          ),
        )
      : null;
  }

  function agentCard(a) {
    const bands = view.riskBands ?? [];
    return h(
      'section',
      { class: 'card agent', 'data-agent': a.agentId, 'aria-labelledby': `agent-${a.agentId}` },
      h(
        'div',
        { class: 'agent-head' },
        h('h2', { id: `agent-${a.agentId}`, class: 'mono' }, a.agentId),
        a.deployed
          ? h('span', { class: 'tag' }, 'deployed')
          : h('span', { class: 'tag' }, 'not in the bundle'),
        a.ceiling
          ? h(
              'span',
              { class: 'muted' },
              'ceiling ',
              verdict(a.ceiling, 'the most autonomy this agent may ever get'),
            )
          : null,
        a.breakers.length || a.killSwitches.some((k) => k.mode === 'deny')
          ? h(
              'span',
              { class: 'badge bad', 'data-testid': 'agent-stopped' },
              a.breakers.length ? 'breaker open' : 'stopped',
            )
          : h('span', { class: 'badge ok' }, 'running'),
        isAdmin()
          ? h(
              'button',
              {
                class: 'btn btn-reject',
                type: 'button',
                'data-testid': 'stop-agent',
                onclick: () => {
                  form = { scope: 'agent', agentId: a.agentId };
                  draw();
                  main.querySelector('#ks-reason')?.focus();
                },
              },
              'Kill switch…',
            )
          : null,
      ),
      a.purpose ? h('p', { class: 'muted small' }, a.purpose) : null,
      form?.scope === 'agent' && form.agentId === a.agentId ? switchForm(form) : null,
      a.breakers.length
        ? h(
            'ul',
            { class: 'breakers', 'data-testid': 'breakers' },
            a.breakers.map((b) =>
              h(
                'li',
                {},
                h('strong', {}, b.kind.replace(/_/g, ' ')),
                ` since ${time(b.trippedAt)}: ${b.reason} → at most `,
                verdict(b.demoteTo),
              ),
            ),
          )
        : null,
      switches(a.killSwitches.filter((k) => k.scope !== 'tenant' && k.scope !== 'global')),
      a.actionTypes.length
        ? h(
            'table',
            { class: 'autonomy', 'data-testid': 'autonomy' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Action'),
                h('th', { scope: 'col' }, 'Trust'),
                h('th', { scope: 'col' }, 'Over time'),
                bands.map((b) =>
                  h('th', { scope: 'col', title: `autonomy at ${b} risk` }, `${b} risk`),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              a.actionTypes.map((t) =>
                h(
                  'tr',
                  { 'data-action': t.actionType },
                  h('th', { scope: 'row', class: 'mono' }, t.actionType.replace(/_/g, ' ')),
                  h(
                    'td',
                    { class: 'trust' },
                    h('strong', { 'data-testid': 'trust-score' }, t.trust.score.toFixed(2)),
                    ' ',
                    h('span', { class: 'tag' }, band(t.trust.band)),
                  ),
                  h('td', {}, trustChart(t.history)),
                  bands.map((b) => {
                    const eff = t.autonomy.effective[b];
                    const base = t.autonomy.byRiskBand[b];
                    if (!eff) return h('td', { 'data-band': b, class: 'muted' }, '—');
                    const limited = base && eff !== base;
                    return h(
                      'td',
                      { 'data-band': b },
                      verdict(
                        eff,
                        limited
                          ? `matrix: ${base}; limited by a breaker, switch or ceiling`
                          : 'from the autonomy matrix',
                      ),
                      limited
                        ? h(
                            'span',
                            { class: 'muted small' },
                            ` (was ${base.replace(/_/g, ' ').toLowerCase()})`,
                          )
                        : null,
                    );
                  }),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No track record yet: every action is untrusted.'),
    );
  }

  function draw() {
    const tenantSwitches = view.killSwitches.filter(
      (k) => k.scope === 'tenant' || k.scope === 'global',
    );
    mount(
      main,
      h(
        'section',
        { class: 'agents-view', 'aria-labelledby': 'agents-title' },
        h(
          'div',
          { class: 'view-head' },
          h('h1', { id: 'agents-title' }, 'Agents'),
          h(
            'span',
            { class: 'muted' },
            `policy bundle ${view.bundleVersion ?? '—'} · matrix ${view.matrixVersion ?? '—'} · as of ${time(view.asOf)}`,
          ),
          isAdmin()
            ? h(
                'button',
                {
                  class: 'btn btn-reject',
                  type: 'button',
                  onclick: () => {
                    form = { scope: 'tenant' };
                    draw();
                    main.querySelector('#ks-reason')?.focus();
                  },
                },
                'Stop all agents…',
              )
            : h(
                'span',
                { class: 'muted small', 'data-testid': 'no-kill-switch' },
                'Kill switches: admins only',
              ),
        ),
        form?.scope === 'tenant' ? switchForm(form) : null,
        switches(tenantSwitches),
        view.agents.length
          ? view.agents.map(agentCard)
          : h('p', { class: 'muted' }, 'No agents yet.'),
      ),
    );
  }

  load();
  const refresh = setInterval(() => {
    if (!form) load();
  }, 15_000);
  return {
    dispose: () => {
      disposed = true;
      clearInterval(refresh);
    },
    onKey: () => false,
  };
}
