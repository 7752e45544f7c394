import type { Principal } from './control-authorizer';
import {
  KillSwitchBoard,
  killSwitchTargetProblem,
  type KillSwitchControlEvent,
  type KillSwitchMode,
  type KillSwitchTarget,
} from './kill-switch.board';

const ADMIN: Principal = { id: 'admin-1', roles: ['policy-admin'] };
const ACME_SUPERVISOR: Principal = { id: 'sup-acme', roles: ['supervisor'], tenantId: 'acme' };
const REVIEWER: Principal = { id: 'rev-1', roles: ['reviewer'], tenantId: 'acme' };

let n = 0;
function setEvent(
  target: KillSwitchTarget,
  opts: { mode?: KillSwitchMode; by?: Principal; version?: number; eventId?: string } = {},
): Extract<KillSwitchControlEvent, { type: 'set' }> {
  return {
    type: 'set',
    eventId: opts.eventId ?? `ev-${++n}`,
    version: opts.version ?? 1,
    target,
    mode: opts.mode ?? 'deny',
    reason: 'runaway discounts',
    by: opts.by ?? ADMIN,
    at: '2025-03-01T09:00:00.000Z',
  };
}
function clearEvent(
  target: KillSwitchTarget,
  opts: { by?: Principal; version?: number; eventId?: string } = {},
): KillSwitchControlEvent {
  return {
    type: 'clear',
    eventId: opts.eventId ?? `ev-${++n}`,
    version: opts.version ?? 2,
    target,
    reason: 'fixed',
    by: opts.by ?? ADMIN,
    at: '2025-03-01T10:00:00.000Z',
  };
}

const GLOBAL: KillSwitchTarget = { scope: 'global' };
const TENANT: KillSwitchTarget = { scope: 'tenant', tenantId: 'acme' };
const AGENT: KillSwitchTarget = { scope: 'agent', tenantId: 'acme', agentId: 'deal-bot' };
const ACTION: KillSwitchTarget = {
  scope: 'action',
  tenantId: 'acme',
  agentId: 'deal-bot',
  actionType: 'apply_discount',
};

describe('KillSwitchBoard', () => {
  describe('scopes', () => {
    // [target, (tenant, agent, action) → matches?]
    const probes: [string, string, string][] = [
      ['acme', 'deal-bot', 'apply_discount'],
      ['acme', 'deal-bot', 'send_email'],
      ['acme', 'lead-bot', 'apply_discount'],
      ['globex', 'deal-bot', 'apply_discount'],
    ];
    it.each([
      ['global', GLOBAL, [true, true, true, true]],
      ['tenant', TENANT, [true, true, true, false]],
      ['agent', AGENT, [true, true, false, false]],
      ['action', ACTION, [true, false, false, false]],
      ['agent (all tenants)', { scope: 'agent', agentId: 'deal-bot' }, [true, true, false, true]],
      [
        'action (all agents, all tenants)',
        { scope: 'action', actionType: 'apply_discount' },
        [true, false, true, true],
      ],
    ] as [string, KillSwitchTarget, boolean[]][])(
      'a %s switch matches exactly its targets',
      (_, target, expected) => {
        const board = new KillSwitchBoard();
        expect(board.apply(setEvent(target)).status).toBe('applied');
        expect(probes.map(([t, a, x]) => board.check(t, a, x) !== undefined)).toEqual(expected);
      },
    );

    it.each(['deny', 'require_approval'] as const)('keeps the mode (%s) and who set it', (mode) => {
      const board = new KillSwitchBoard();
      board.apply(setEvent(AGENT, { mode }));
      expect(board.check('acme', 'deal-bot', 'send_email')).toEqual({
        ...AGENT,
        mode,
        reason: 'runaway discounts',
        setBy: 'admin-1',
        setAt: '2025-03-01T09:00:00.000Z',
      });
    });

    it('returns the strongest match: deny first, then the broadest scope', () => {
      const board = new KillSwitchBoard();
      board.apply(setEvent(GLOBAL, { mode: 'require_approval' }));
      board.apply(setEvent(ACTION, { mode: 'deny' }));
      board.apply(setEvent(TENANT, { mode: 'require_approval' }));
      expect(board.check('acme', 'deal-bot', 'apply_discount')?.scope).toBe('action');
      expect(board.check('acme', 'deal-bot', 'send_email')?.scope).toBe('global');
      board.apply(setEvent(AGENT, { mode: 'deny' }));
      expect(board.check('acme', 'deal-bot', 'apply_discount')?.scope).toBe('agent');
      expect(board.list()).toHaveLength(4);
    });
  });

  describe('changes', () => {
    it('clears a switch and audits both transitions', () => {
      const board = new KillSwitchBoard();
      const set = board.apply(setEvent(TENANT, { eventId: 'e-set' }));
      expect(set.audit).toMatchObject({
        auditId: 'kill-switch/e-set/KILL_SWITCH_SET',
        kind: 'KILL_SWITCH_SET',
        tenantId: 'acme',
        actor: 'admin-1',
        occurredAt: '2025-03-01T09:00:00.000Z',
        attributes: {
          scope: 'tenant',
          mode: 'deny',
          operation: 'set',
          version: '1',
          reason: 'runaway discounts',
        },
      });
      const cleared = board.apply(clearEvent(TENANT, { eventId: 'e-clear' }));
      expect(cleared.status).toBe('applied');
      expect(cleared.audit?.kind).toBe('KILL_SWITCH_CLEARED');
      expect(board.check('acme', 'deal-bot', 'apply_discount')).toBeUndefined();
    });

    it('a set of the same target replaces the previous mode', () => {
      const board = new KillSwitchBoard();
      board.apply(setEvent(AGENT, { mode: 'deny', version: 1 }));
      board.apply(setEvent(AGENT, { mode: 'require_approval', version: 2 }));
      expect(board.check('acme', 'deal-bot', 'x')?.mode).toBe('require_approval');
      expect(board.list()).toHaveLength(1);
    });

    it('is idempotent by event id: a redelivery changes nothing and is not audited again', () => {
      const board = new KillSwitchBoard();
      const ev = setEvent(GLOBAL);
      expect(board.apply(ev).status).toBe('applied');
      board.apply(clearEvent(GLOBAL, { version: 2 }));
      expect(board.apply(ev)).toEqual({ status: 'duplicate' });
      expect(board.check('acme', 'a', 'b')).toBeUndefined();
    });

    it('ignores stale events: an old set cannot resurrect a cleared switch', () => {
      const board = new KillSwitchBoard();
      board.apply(clearEvent(TENANT, { version: 5 }));
      expect(board.apply(setEvent(TENANT, { version: 4 }))).toEqual({ status: 'stale' });
      expect(board.apply(setEvent(TENANT, { version: 5 }))).toEqual({ status: 'stale' });
      expect(board.check('acme', 'a', 'b')).toBeUndefined();
      expect(board.apply(setEvent(TENANT, { version: 6 })).status).toBe('applied');
      expect(board.check('acme', 'a', 'b')).toBeDefined();
    });

    it('orders versions per target, so reordering across targets loses nothing', () => {
      const board = new KillSwitchBoard();
      board.apply(setEvent(AGENT, { version: 9 }));
      expect(board.apply(setEvent(TENANT, { version: 1 })).status).toBe('applied');
    });
  });

  describe('authorisation', () => {
    it('refuses an unauthorised set, audits the attempt and changes nothing', () => {
      const board = new KillSwitchBoard();
      const r = board.apply(setEvent(TENANT, { by: REVIEWER, eventId: 'forged' }));
      expect(r.status).toBe('refused');
      expect(r.audit).toMatchObject({
        auditId: 'kill-switch/forged/KILL_SWITCH_REFUSED',
        kind: 'KILL_SWITCH_REFUSED',
        actor: 'rev-1',
        tenantId: 'acme',
      });
      expect(board.check('acme', 'a', 'b')).toBeUndefined();
    });

    it('refuses an unauthorised clear: the switch stays', () => {
      const board = new KillSwitchBoard();
      board.apply(setEvent(GLOBAL));
      expect(board.apply(clearEvent(GLOBAL, { by: ACME_SUPERVISOR })).status).toBe('refused');
      expect(
        board.apply(clearEvent(GLOBAL, { by: { id: '', roles: ['policy-admin'] } })).status,
      ).toBe('refused');
      expect(board.check('acme', 'a', 'b')).toBeDefined();
      expect(board.apply(clearEvent(GLOBAL, { by: ADMIN, version: 3 })).status).toBe('applied');
    });

    it('lets a supervisor control switches confined to their own tenant only', () => {
      const board = new KillSwitchBoard();
      expect(board.apply(setEvent(TENANT, { by: ACME_SUPERVISOR })).status).toBe('applied');
      expect(board.apply(setEvent(AGENT, { by: ACME_SUPERVISOR })).status).toBe('applied');
      expect(board.apply(setEvent(ACTION, { by: ACME_SUPERVISOR })).status).toBe('applied');
      expect(board.apply(clearEvent(TENANT, { by: ACME_SUPERVISOR })).status).toBe('applied');
      expect(
        board.apply(setEvent({ scope: 'tenant', tenantId: 'globex' }, { by: ACME_SUPERVISOR }))
          .status,
      ).toBe('refused');
      expect(board.apply(setEvent(GLOBAL, { by: ACME_SUPERVISOR })).status).toBe('refused');
      // An agent switch across all tenants is not confined to theirs.
      expect(
        board.apply(setEvent({ scope: 'agent', agentId: 'deal-bot' }, { by: ACME_SUPERVISOR }))
          .status,
      ).toBe('refused');
      expect(board.canControl(ACME_SUPERVISOR, TENANT)).toBe(true);
      expect(board.canControl(REVIEWER, TENANT)).toBe(false);
    });

    it('a refused event does not advance the version', () => {
      const board = new KillSwitchBoard();
      board.apply(setEvent(TENANT, { by: REVIEWER, version: 7 }));
      expect(board.apply(setEvent(TENANT, { by: ADMIN, version: 2 })).status).toBe('applied');
    });
  });

  describe('validation', () => {
    it.each([
      [{ scope: 'tenant' }, 'tenant scope requires tenantId'],
      [{ scope: 'global', tenantId: 'acme' }, 'global scope must not carry tenantId'],
      [{ scope: 'agent', tenantId: 'acme' }, 'agent scope requires agentId'],
      [{ scope: 'agent', agentId: 'a', actionType: 'x' }, 'agent scope must not carry actionType'],
      [{ scope: 'action', tenantId: 'acme' }, 'action scope requires actionType'],
      [{ scope: 'planet' }, 'unknown kill switch scope "planet"'],
    ] as [KillSwitchTarget, string][])('refuses target %p', (target, problem) => {
      expect(killSwitchTargetProblem(target)).toBe(problem);
      const board = new KillSwitchBoard();
      expect(board.apply(setEvent(target))).toEqual({ status: 'invalid', problem });
    });

    it('refuses events without a reason, a valid version, mode or event id', () => {
      const board = new KillSwitchBoard();
      expect(board.apply({ ...setEvent(GLOBAL), reason: ' ' }).status).toBe('invalid');
      expect(board.apply({ ...setEvent(GLOBAL), version: 0 }).status).toBe('invalid');
      expect(board.apply({ ...setEvent(GLOBAL), mode: 'pause' as KillSwitchMode }).status).toBe(
        'invalid',
      );
      expect(board.apply({ ...setEvent(GLOBAL), at: 'yesterday' }).status).toBe('invalid');
      expect(board.apply({ ...setEvent(GLOBAL), eventId: '' }).status).toBe('invalid');
      expect(board.list()).toEqual([]);
    });
  });
});
