import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Verdict } from '@mandate/contracts';
import type { RiskBand } from '../risk/risk-model.config';
import type { TrustBand } from '../trust/trust-model';
import { parseAutonomyMatrix } from './autonomy-matrix';
import type { OpenBreaker } from './circuit-breakers';
import { decideAutonomy, type AutonomyInput } from './decide-autonomy';
import type { KillSwitch, KillSwitchScope } from './kill-switch.board';
import { verdictName } from './verdict-order';

const V = Verdict;
const MATRIX = parseAutonomyMatrix(
  JSON.parse(readFileSync(join(__dirname, '../../../bundles/default/matrix.json'), 'utf8')),
);

function decide(
  overrides: Partial<AutonomyInput> & { riskBand?: RiskBand; trustBand?: TrustBand } = {},
) {
  const { riskBand = 'low', trustBand = 'high', ...rest } = overrides;
  return decideAutonomy({
    cedar: 'allow',
    obligations: [],
    risk: { band: riskBand },
    trust: { band: trustBand },
    matrix: MATRIX,
    ceiling: V.VERDICT_AUTO,
    breakers: [],
    ...rest,
  });
}

const killSwitch = (scope: KillSwitchScope, mode: KillSwitch['mode']): KillSwitch => ({
  scope,
  ...(scope !== 'global' ? { tenantId: 'acme' } : {}),
  ...(scope === 'agent' || scope === 'action' ? { agentId: 'deal-bot' } : {}),
  ...(scope === 'action' ? { actionType: 'apply_discount' } : {}),
  mode,
  reason: 'incident 42',
  setBy: 'ops-1',
  setAt: '2025-03-01T09:00:00Z',
});

const breaker = (kind: OpenBreaker['kind'], demoteTo: Verdict): OpenBreaker => ({
  kind,
  tenantId: 'acme',
  agentId: 'deal-bot',
  reason: 'spike',
  trippedAt: '2025-03-01T09:00:00Z',
  demoteTo,
});

describe('decideAutonomy', () => {
  describe('the matrix', () => {
    it.each(
      (
        [
          ['low', 'untrusted', V.VERDICT_APPROVE_1],
          ['low', 'low', V.VERDICT_AUTO_WITH_NOTICE],
          ['low', 'medium', V.VERDICT_AUTO],
          ['low', 'high', V.VERDICT_AUTO],
          ['medium', 'untrusted', V.VERDICT_APPROVE_1],
          ['medium', 'low', V.VERDICT_APPROVE_1],
          ['medium', 'medium', V.VERDICT_AUTO_WITH_NOTICE],
          ['medium', 'high', V.VERDICT_AUTO_WITH_NOTICE],
          ['high', 'untrusted', V.VERDICT_APPROVE_2],
          ['high', 'low', V.VERDICT_APPROVE_2],
          ['high', 'medium', V.VERDICT_APPROVE_1],
          ['high', 'high', V.VERDICT_APPROVE_1],
          ['critical', 'untrusted', V.VERDICT_DENY],
          ['critical', 'low', V.VERDICT_APPROVE_2],
          ['critical', 'medium', V.VERDICT_APPROVE_2],
          ['critical', 'high', V.VERDICT_APPROVE_2],
        ] as [RiskBand, TrustBand, Verdict][]
      ).map(([r, t, v]) => [r, t, verdictName(v), v] as const),
    )('%s risk × %s trust → %s', (riskBand, trustBand, _name, verdict) => {
      expect(decide({ riskBand, trustBand })).toEqual({
        verdict,
        reasonCodes: ['MATRIX'],
        matrixVersion: 'matrix-1',
      });
    });

    it('denies when the bands have no cell (fail closed)', () => {
      expect(decide({ riskBand: 'extreme' as RiskBand })).toMatchObject({
        verdict: V.VERDICT_DENY,
        reasonCodes: ['MATRIX_CELL_MISSING'],
      });
      expect(decide({ trust: undefined as never })).toMatchObject({
        verdict: V.VERDICT_DENY,
        reasonCodes: ['MATRIX_CELL_MISSING'],
      });
    });
  });

  describe('Cedar', () => {
    it('a forbid always wins, whatever else says', () => {
      expect(decide({ cedar: 'deny' })).toMatchObject({
        verdict: V.VERDICT_DENY,
        reasonCodes: ['FORBID_MATCHED'],
      });
    });

    it('anything but allow denies', () => {
      expect(decide({ cedar: 'maybe' as never })).toMatchObject({
        verdict: V.VERDICT_DENY,
        reasonCodes: ['CEDAR_UNDECIDED'],
      });
    });
  });

  describe('kill switches', () => {
    it.each(['global', 'tenant', 'agent', 'action'] as const)(
      'a deny switch of %s scope denies',
      (scope) => {
        expect(decide({ killSwitch: killSwitch(scope, 'deny') })).toMatchObject({
          verdict: V.VERDICT_DENY,
          reasonCodes: [`KILL_SWITCH_${scope.toUpperCase()}`],
        });
      },
    );

    it.each(['global', 'tenant', 'agent', 'action'] as const)(
      'a require_approval switch of %s scope demotes to APPROVE_1',
      (scope) => {
        expect(decide({ killSwitch: killSwitch(scope, 'require_approval') })).toMatchObject({
          verdict: V.VERDICT_APPROVE_1,
          reasonCodes: ['MATRIX', `KILL_SWITCH_${scope.toUpperCase()}`],
        });
      },
    );

    it('require_approval never relaxes a stricter verdict, and then adds no code', () => {
      expect(
        decide({
          riskBand: 'high',
          trustBand: 'low',
          killSwitch: killSwitch('tenant', 'require_approval'),
        }),
      ).toMatchObject({ verdict: V.VERDICT_APPROVE_2, reasonCodes: ['MATRIX'] });
    });

    it('an unknown mode denies (fail closed)', () => {
      const ks = { ...killSwitch('agent', 'deny'), mode: 'pause' as never };
      expect(decide({ killSwitch: ks }).verdict).toBe(V.VERDICT_DENY);
    });

    it('Cedar forbids still win over a kill switch', () => {
      expect(
        decide({ cedar: 'deny', killSwitch: killSwitch('global', 'deny') }).reasonCodes,
      ).toEqual(['FORBID_MATCHED']);
    });
  });

  describe('obligations', () => {
    it('human_review demotes to at most APPROVE_1', () => {
      expect(decide({ obligations: ['human_review'] })).toMatchObject({
        verdict: V.VERDICT_APPROVE_1,
        reasonCodes: ['MATRIX', 'OBLIGATION_HUMAN_REVIEW'],
      });
      expect(
        decide({ riskBand: 'high', trustBand: 'untrusted', obligations: ['human_review'] }),
      ).toMatchObject({
        verdict: V.VERDICT_APPROVE_2,
        reasonCodes: ['MATRIX'],
      });
    });

    it('other obligations do not change the verdict', () => {
      expect(decide({ obligations: ['redact_pii'] }).verdict).toBe(V.VERDICT_AUTO);
    });
  });

  describe('circuit breakers', () => {
    it.each([
      ['rejection_rate', 'APPROVE_1', V.VERDICT_APPROVE_1, 'BREAKER_REJECTION_RATE'],
      ['action_rate', 'APPROVE_1', V.VERDICT_APPROVE_1, 'BREAKER_ACTION_RATE'],
      ['error_spike', 'DENY', V.VERDICT_DENY, 'BREAKER_ERROR_SPIKE'],
    ] as const)('an open %s breaker demotes to %s', (kind, _name, demoteTo, code) => {
      expect(decide({ breakers: [breaker(kind, demoteTo)] })).toMatchObject({
        verdict: demoteTo,
        reasonCodes: ['MATRIX', code],
      });
    });

    it('several open breakers: the strictest wins, each that changed the verdict is named', () => {
      expect(
        decide({
          breakers: [
            breaker('rejection_rate', V.VERDICT_APPROVE_1),
            breaker('action_rate', V.VERDICT_APPROVE_1),
            breaker('error_spike', V.VERDICT_DENY),
          ],
        }),
      ).toMatchObject({
        verdict: V.VERDICT_DENY,
        reasonCodes: ['MATRIX', 'BREAKER_REJECTION_RATE', 'BREAKER_ERROR_SPIKE'],
      });
    });

    it('an unreadable demotion denies (fail closed)', () => {
      expect(decide({ breakers: [breaker('action_rate', V.VERDICT_UNSPECIFIED)] }).verdict).toBe(
        V.VERDICT_DENY,
      );
    });
  });

  describe('the ceiling', () => {
    it('caps the verdict at the agent ceiling', () => {
      expect(decide({ ceiling: V.VERDICT_AUTO_WITH_NOTICE })).toMatchObject({
        verdict: V.VERDICT_AUTO_WITH_NOTICE,
        reasonCodes: ['MATRIX', 'CEILING_APPLIED'],
      });
      expect(decide({ ceiling: V.VERDICT_APPROVE_2 })).toMatchObject({
        verdict: V.VERDICT_APPROVE_2,
        reasonCodes: ['MATRIX', 'CEILING_APPLIED'],
      });
      expect(decide({ ceiling: V.VERDICT_DENY }).verdict).toBe(V.VERDICT_DENY);
    });

    it('does not touch a verdict already within it', () => {
      expect(decide({ riskBand: 'high', ceiling: V.VERDICT_AUTO_WITH_NOTICE })).toMatchObject({
        verdict: V.VERDICT_APPROVE_1,
        reasonCodes: ['MATRIX'],
      });
    });

    it('an unspecified ceiling denies (fail closed)', () => {
      expect(decide({ ceiling: V.VERDICT_UNSPECIFIED })).toMatchObject({
        verdict: V.VERDICT_DENY,
        reasonCodes: ['MATRIX', 'CEILING_APPLIED'],
      });
    });
  });

  it('applies every demotion in order and names only those that changed the verdict', () => {
    expect(
      decide({
        riskBand: 'low',
        trustBand: 'high',
        obligations: ['human_review'],
        breakers: [breaker('rejection_rate', V.VERDICT_APPROVE_1)],
        killSwitch: killSwitch('agent', 'require_approval'),
        ceiling: V.VERDICT_APPROVE_2,
      }),
    ).toEqual({
      verdict: V.VERDICT_APPROVE_2,
      reasonCodes: ['MATRIX', 'OBLIGATION_HUMAN_REVIEW', 'CEILING_APPLIED'],
      matrixVersion: 'matrix-1',
    });
  });
});
