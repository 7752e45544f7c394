import {
  ActionProposal,
  CrmAction,
  ErrorClass,
  ExecutionOutcome,
  ExecutionStatus,
  PolicyDecision,
  Verdict,
} from '@mandate/contracts';
import {
  DecisionTokenIssuer,
  DecisionTokenVerifier,
  generateSigningKeyPair,
  parsePrivateKey,
  parsePublicKey,
} from '@mandate/decision-token';
import { Topics } from '@mandate/messaging';
import { InMemoryDocumentStore, tenantId } from '@mandate/storage';
import type { ConnectorAdapter, ExecuteRequest } from '../adapter';
import type { ConnectorCapabilities } from '../capabilities';
import { ConnectorError } from '../errors';
import { ManagedConnector } from '../managed-connector';
import {
  EXECUTIONS,
  EXECUTION_EVENTS,
  type ExecutionDoc,
  type ExecutionEventDoc,
} from './execution-record';
import { SafeExecutor } from './safe-executor';

const TENANT = tenantId('acme');
const keys = generateSigningKeyPair();
let clock = new Date('2026-11-25T10:00:00Z');
const issuer = new DecisionTokenIssuer(
  { keyId: 'k1', privateKey: parsePrivateKey(keys.privateKey) },
  60_000,
  () => clock,
);
const verifier = new DecisionTokenVerifier(
  new Map([['k1', parsePublicKey(keys.publicKey)]]),
  () => clock,
);

const CAPS: ConnectorCapabilities = {
  connector: 'fake',
  objects: [
    {
      objectType: 'opportunity',
      fields: [{ name: 'discountPercent', classification: 'confidential' }],
    },
  ],
  actions: ['apply_discount'],
  reversibleActions: ['apply_discount'],
  changeFeed: 'none',
  crmSideIdempotency: false,
  rateLimit: { requestsPerSecond: 1000, burst: 1000 },
};

/** A CRM double that fails as told and counts effects. */
class FakeAdapter implements ConnectorAdapter {
  readonly capabilities = CAPS;
  fields: Record<string, number> = { discountPercent: 0 };
  calls = 0;
  failures: ConnectorError[] = [];
  async execute(r: ExecuteRequest) {
    this.calls++;
    const f = this.failures.shift();
    if (f) throw f;
    const previous = this.fields.discountPercent;
    if (r.action.kind?.$case === 'applyDiscount')
      this.fields.discountPercent = r.action.kind.value.discountPercent;
    return { status: 'applied' as const, undo: { previous } };
  }
  async read() {
    return null;
  }
  async compensate(r: { undo: Record<string, unknown> }) {
    this.fields.discountPercent = r.undo['previous'] as number;
    return { status: 'applied' as const };
  }
}

const discount = (pct: number) =>
  CrmAction.fromPartial({
    kind: {
      $case: 'applyDiscount',
      value: { discountPercent: pct, reason: 'r', listAmount: undefined },
    },
  });

function decision(
  action = discount(10),
  verdict = Verdict.VERDICT_AUTO,
  key = 'key-1',
): PolicyDecision {
  const proposal = ActionProposal.fromPartial({
    proposalId: `p-${key}`,
    tenantId: TENANT,
    correlationId: `c-${key}`,
    agentId: 'deal-desk',
    idempotencyKey: key,
    target: { objectType: 'opportunity', recordId: 'opp-1' },
    action,
  });
  return PolicyDecision.fromPartial({
    decisionId: `d-${Math.random()}`,
    tenantId: TENANT,
    correlationId: proposal.correlationId,
    proposal,
    verdict,
    token: issuer.issue(
      proposal,
      verdict,
      verdict === Verdict.VERDICT_APPROVE_1
        ? ([{ reviewerId: 'r1', decision: 1, decidedAt: clock.toISOString() }] as never)
        : [],
    ),
  });
}

function setup() {
  const adapter = new FakeAdapter();
  const store = new InMemoryDocumentStore<ExecutionDoc>(EXECUTIONS);
  const connector = new ManagedConnector(adapter, {
    tenantId: TENANT,
    sleep: async () => undefined,
    retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1000 },
  });
  const events = new InMemoryDocumentStore<ExecutionEventDoc>(EXECUTION_EVENTS);
  const executor = new SafeExecutor(
    () => connector,
    store,
    verifier,
    events,
    undefined,
    () => clock,
  );
  const outcomes = async (): Promise<ExecutionOutcome[]> => {
    const pending = await events.pendingOutbox({ limit: 1000 });
    return pending
      .flatMap((p) => p.entries)
      .filter((e) => e.topic === Topics.executionOutcomes.name)
      .map((e) => ExecutionOutcome.decode(e.payload));
  };
  const audits = async () =>
    (await events.pendingOutbox({ limit: 1000 }))
      .flatMap((p) => p.entries)
      .filter((e) => e.topic === Topics.auditRecords.name).length;
  return { adapter, store, executor, outcomes, audits };
}

describe('SafeExecutor', () => {
  beforeEach(() => (clock = new Date('2026-11-25T10:00:00Z')));

  it('executes once and records the outcome with its audit record in the same write', async () => {
    const { adapter, executor, outcomes, audits } = setup();
    const r = await executor.execute(decision());
    expect(r.kind).toBe('executed');
    expect(adapter.fields.discountPercent).toBe(10);
    const [o] = await outcomes();
    expect([o.status, o.errorClass, o.connector, o.attempt]).toEqual([
      ExecutionStatus.EXECUTION_STATUS_EXECUTED,
      ErrorClass.ERROR_CLASS_NONE,
      'fake',
      1,
    ]);
    expect(await audits()).toBe(1);
  });

  it('skips what is not executable yet, and refuses what the connector does not support', async () => {
    const { adapter, executor, outcomes } = setup();
    expect((await executor.execute({ ...decision(), verdict: Verdict.VERDICT_DENY })).kind).toBe(
      'skipped',
    );
    expect(
      (
        await executor.execute({
          ...decision(undefined, Verdict.VERDICT_APPROVE_1),
          token: undefined,
        })
      ).kind,
    ).toBe('skipped');
    const close = CrmAction.fromPartial({
      kind: { $case: 'closeCase', value: { resolutionCode: 'X', summary: '' } },
    });
    const r = await executor.execute(decision(close, Verdict.VERDICT_AUTO, 'key-close'));
    expect(r.kind).toBe('refused');
    expect(adapter.calls).toBe(0);
    const [o] = await outcomes();
    expect([o.status, o.errorClass]).toEqual([
      ExecutionStatus.EXECUTION_STATUS_REFUSED,
      ErrorClass.ERROR_CLASS_PERMANENT,
    ]);
    expect(o.message).toMatch(/UNSUPPORTED_ACTION/);
  });

  it('records a permanent CRM failure as FAILED with its class, and never retries it', async () => {
    const { adapter, executor, outcomes, store } = setup();
    adapter.failures.push(
      ConnectorError.permanent('FIELD_CUSTOM_VALIDATION_EXCEPTION', 'validation rule'),
    );
    const d = decision();
    const r = await executor.execute(d);
    expect(r.kind).toBe('failed');
    expect(r.kind !== 'skipped' && r.reason).toMatch(/FIELD_CUSTOM_VALIDATION_EXCEPTION/);
    expect((await store.get(TENANT, 'key-1'))?.status).toBe('failed');
    expect((await executor.execute(d)).kind).toBe('duplicate');
    expect(adapter.calls).toBe(1);
    expect((await outcomes()).map((o) => [o.status, o.errorClass]).sort()).toEqual([
      [ExecutionStatus.EXECUTION_STATUS_FAILED, ErrorClass.ERROR_CLASS_PERMANENT],
      [ExecutionStatus.EXECUTION_STATUS_DUPLICATE_SUPPRESSED, ErrorClass.ERROR_CLASS_NONE],
    ]);
  });

  it('throws a retryable failure for the bus to retry, and records it FAILED only on the final attempt', async () => {
    const { adapter, executor, store } = setup();
    const d = decision();
    adapter.failures.push(...[1, 2].map(() => ConnectorError.retryable('UNAVAILABLE', 'down')));
    await expect(executor.execute(d)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect((await store.get(TENANT, 'key-1'))?.status).toBe('executing');
    adapter.failures.push(...[1, 2].map(() => ConnectorError.retryable('UNAVAILABLE', 'down')));
    const r = await executor.execute(d, { finalAttempt: true });
    expect(r.kind).toBe('failed');
    const doc = await store.get(TENANT, 'key-1');
    expect([doc?.status, doc?.errorKind, doc?.attempts]).toEqual(['failed', 'retryable', 2]);
    // Replayed from the dead-letter topic once the CRM is back: it runs again, once.
    const again = await executor.execute(d);
    expect(again.kind).toBe('executed');
    expect(adapter.fields.discountPercent).toBe(10);
  });

  it('completes its own claim after a crash even when the token has expired meanwhile', async () => {
    const { adapter, executor, store } = setup();
    const d = decision();
    adapter.failures.push(...[1, 2].map(() => ConnectorError.retryable('UNAVAILABLE', 'down')));
    await expect(executor.execute(d)).rejects.toBeDefined();
    clock = new Date(clock.getTime() + 10 * 60_000);
    expect((await executor.execute(d)).kind).toBe('executed');
    expect((await store.get(TENANT, 'key-1'))?.attempts).toBe(2);
    // A fresh decision with an expired token is refused.
    const late = decision(discount(5), Verdict.VERDICT_AUTO, 'key-2');
    clock = new Date(clock.getTime() + 10 * 60_000);
    expect((await executor.execute(late)).kind).toBe('refused');
  });

  it('compensates an executed action once, audited with the operator', async () => {
    const { adapter, executor, outcomes, store } = setup();
    await executor.execute(decision());
    expect(adapter.fields.discountPercent).toBe(10);
    const r = await executor.compensate(TENANT, 'key-1', 'supervisor-1');
    expect(r.kind).toBe('compensated');
    expect(adapter.fields.discountPercent).toBe(0);
    expect((await store.get(TENANT, 'key-1'))?.status).toBe('compensated');
    expect((await executor.compensate(TENANT, 'key-1', 'supervisor-1')).kind).toBe('duplicate');
    const last = (await outcomes()).find(
      (o) => o.status === ExecutionStatus.EXECUTION_STATUS_COMPENSATED,
    )!;
    expect(last).toBeDefined();
    expect(last.message).toMatch(/supervisor-1/);
    await expect(executor.compensate(TENANT, 'nope', 'x')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
