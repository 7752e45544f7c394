import { ActionProposal, CrmAction, PolicyDecision, Verdict } from '@mandate/contracts';
import { Topics } from '@mandate/messaging';
import {
  createLogger,
  createNestApp,
  EmbeddedRuntime,
  LocalOidcIssuer,
  type StoreProvider,
} from '@mandate/platform';
import { REVIEW_TENANTS, type ReviewTaskDoc } from '@mandate/review-domain';
import { tenantId, type TenantId } from '@mandate/storage';
import { REVIEW_TASK_STORE } from './decision.consumer';
import { ReviewServiceModule } from './review-service.module';
import { StaticReviewerDirectory } from './reviewer-directory';
import { SlaSweeperHost } from './sla-sweeper.host';
import { slaTenantSource } from './sla-tenants';

const ACME = tenantId('acme');
const GLOBEX = tenantId('globex');
const INITECH = tenantId('initech');

describe('slaTenantSource', () => {
  const logger = () => ({ warn: jest.fn() });

  it('sweeps configured, seen and registered tenants, each once', async () => {
    const log = logger();
    const source = slaTenantSource({
      configured: () => [ACME],
      seen: () => [GLOBEX, ACME],
      registry: { tenants: async () => [INITECH, GLOBEX] },
      logger: log,
    });
    expect(await source()).toEqual([ACME, GLOBEX, INITECH]);
    expect(log.warn).not.toHaveBeenCalled();
  });

  it('falls back to the configured and seen tenants with a warning when the registry read fails', async () => {
    const log = logger();
    let down = true;
    const source = slaTenantSource({
      configured: () => [ACME],
      seen: () => [GLOBEX],
      registry: {
        tenants: async () => {
          if (down) throw new Error('storage down');
          return [INITECH];
        },
      },
      logger: log,
    });
    expect(await source()).toEqual([ACME, GLOBEX]);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledWith(
      expect.objectContaining({ err: expect.objectContaining({ message: 'storage down' }) }),
      expect.stringMatching(
        /tenant registry .* could not be read; sweeping the configured and seen/,
      ),
    );
    // The next sweep reads the registry again.
    down = false;
    expect(await source()).toEqual([ACME, GLOBEX, INITECH]);
    expect(log.warn).toHaveBeenCalledTimes(1);
  });
});

describe('the review service sweeps its configured tenants when the tenant registry is down', () => {
  const T0 = new Date('2025-03-03T09:00:00.000Z');
  const at = (h: number) => new Date(T0.getTime() + h * 3600_000);

  it('still escalates a configured tenant overdue task, logging a warning', async () => {
    const logger = createLogger('review-test', 'silent');
    const runtime = new EmbeddedRuntime(logger);
    let registryDown = false;
    // review_tenants whose reads fail on demand (storage trouble on that one collection).
    const stores: StoreProvider = {
      store: async (definition) => {
        const store = await runtime.stores.store(definition);
        if (definition.name !== REVIEW_TENANTS.name) return store;
        return new Proxy(store, {
          get(target, prop, receiver) {
            if (prop === 'find' && registryDown)
              return () => Promise.reject(new Error('review_tenants unreachable'));
            const value = Reflect.get(target, prop, receiver) as unknown;
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      },
    };
    const context = runtime.context('human-review');
    const warn = jest.spyOn(context.logger, 'warn');
    let now = at(0);
    const module = await ReviewServiceModule.create({
      context,
      stores,
      authenticator: new LocalOidcIssuer().authenticator(),
      recheck: {
        recheck: async () => {
          throw new Error('no re-check in this test');
        },
      },
      reviewers: new StaticReviewerDirectory([
        {
          id: 'rev-a',
          tenantId: 'acme',
          teams: ['general'],
          skills: [],
          roles: ['reviewer'],
          active: true,
        },
      ]),
      now: () => now,
      sweepIntervalMs: 0,
      relayIntervalMs: 50,
      noticeSampleRate: 0,
    });
    await runtime.bus.start();
    const app = await createNestApp(
      [module],
      { metrics: runtime.contexts.map((c) => c.metrics), readiness: [] },
      logger,
    );
    await app.init();
    try {
      const decision = PolicyDecision.fromPartial({
        decisionId: 'd-1',
        tenantId: ACME,
        correlationId: 'corr-d-1',
        verdict: Verdict.VERDICT_APPROVE_1,
        proposal: ActionProposal.fromPartial({
          proposalId: 'p-d-1',
          tenantId: ACME,
          correlationId: 'corr-d-1',
          agentId: 'lead-qualification',
          idempotencyKey: 'k-d-1',
          target: { objectType: 'lead', recordId: 'lead-1' },
          action: CrmAction.fromPartial({
            kind: { $case: 'qualifyLead', value: { score: 80, reason: 'fits' } },
          }),
          rationale: 'fits',
        }),
        explanation: { riskBand: 'medium', reasonCodes: ['MATRIX'] },
        decidedAt: T0.toISOString(),
      });
      await runtime.bus.publish(Topics.policyDecisions, decision, {
        tenantId: ACME,
        correlationId: 'corr-d-1',
        source: 'policy',
        id: 'd-1',
      });
      const tasks = app.get(REVIEW_TASK_STORE) as {
        find(t: TenantId, f: object): Promise<ReviewTaskDoc[]>;
        get(t: TenantId, id: string): Promise<ReviewTaskDoc | undefined>;
      };
      let task: ReviewTaskDoc | undefined;
      for (let i = 0; i < 100 && !task; i++) {
        task = (await tasks.find(ACME, {}))[0];
        if (!task) await new Promise((r) => setTimeout(r, 20));
      }
      expect(task).toMatchObject({ status: 'OPEN', tier: 0 });

      registryDown = true;
      now = at(4.5); // past the first tier's 4 h deadline
      const report = await app.get(SlaSweeperHost).sweepNow();
      expect(report.escalated).toBe(1);
      expect(await tasks.get(ACME, task!.id)).toMatchObject({ tier: 1, team: 'supervisors' });
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ err: expect.any(Error) }),
        expect.stringMatching(/tenant registry \(review_tenants\) could not be read/),
      );
    } finally {
      await app.close();
      await runtime.bus.stop();
    }
  });
});
