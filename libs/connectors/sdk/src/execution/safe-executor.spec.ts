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
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ConnectorAdapter, ExecuteRequest, ReadRequest } from '../adapter';
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

const spans = new InMemorySpanExporter();
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
);

const CAPS: ConnectorCapabilities = {
  connector: 'fake',
  objects: [
    {
      objectType: 'opportunity',
      fields: [
        { name: 'discountPercent', classification: 'confidential' },
        { name: 'name', classification: 'internal' },
      ],
    },
    {
      objectType: 'contact',
      fields: [
        { name: 'firstName', classification: 'personal' },
        { name: 'email', classification: 'personal' },
      ],
    },
    {
      objectType: 'case',
      fields: [{ name: 'subject', classification: 'internal' }],
    },
  ],
  actions: ['apply_discount', 'send_email', 'reply_to_case'],
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
  /** What `execute` was called with. */
  requests: ExecuteRequest[] = [];
  /** Records `read` answers from, by "objectType/recordId". */
  records = new Map<string, Record<string, unknown>>();
  reads: ReadRequest[] = [];
  readFailures: ConnectorError[] = [];
  async execute(r: ExecuteRequest) {
    this.calls++;
    this.requests.push(r);
    const f = this.failures.shift();
    if (f) throw f;
    const previous = this.fields.discountPercent;
    if (r.action.kind?.$case === 'applyDiscount')
      this.fields.discountPercent = r.action.kind.value.discountPercent;
    return { status: 'applied' as const, undo: { previous } };
  }
  async read(r: ReadRequest) {
    this.reads.push(r);
    const f = this.readFailures.shift();
    if (f) throw f;
    const record = this.records.get(`${r.target.objectType}/${r.target.recordId}`);
    if (!record) return null;
    return {
      target: r.target,
      fields: Object.fromEntries(r.fields.filter((n) => n in record).map((n) => [n, record[n]])),
    };
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
  target = { objectType: 'opportunity', recordId: 'opp-1' },
): PolicyDecision {
  const proposal = ActionProposal.fromPartial({
    proposalId: `p-${key}`,
    tenantId: TENANT,
    correlationId: `c-${key}`,
    agentId: 'deal-desk',
    idempotencyKey: key,
    target,
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
  /** Every pending outbox entry (outcomes and audit records), as text. */
  const outboxText = async () =>
    (await events.pendingOutbox({ limit: 1000 }))
      .flatMap((p) => p.entries)
      .map(
        (e) =>
          `${e.topic} ${e.key} ${JSON.stringify(e.headers ?? {})} ${Buffer.from(e.payload).toString('utf8')}`,
      )
      .join('\n');
  return { adapter, store, executor, outcomes, audits, outboxText };
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

describe('SafeExecutor: merge fields', () => {
  const FIRST = '⟦REF:contact/con-6/firstName⟧';
  const EMAIL = '⟦REF:contact/con-6/email⟧';
  const OPP = '⟦REF:opportunity/opp-1/name⟧';
  /** Values only the CRM holds: none may appear anywhere but in the adapter call. */
  const VALUES = ['Rosalind', 'rosalind@example.org', 'Franklin Labs renewal'];

  const email = (subject: string, body: string, toContactId = 'con-6') =>
    CrmAction.fromPartial({
      kind: { $case: 'sendEmail', value: { toContactId, subject, body, templateId: '' } },
    });
  const sentText = (r: ExecuteRequest) =>
    r.action.kind?.$case === 'sendEmail'
      ? `${r.action.kind.value.subject}\n${r.action.kind.value.body}`
      : r.action.kind?.$case === 'replyToCase'
        ? r.action.kind.value.body
        : '';

  function crm() {
    const s = setup();
    s.adapter.records.set('contact/con-6', {
      firstName: 'Rosalind',
      email: 'rosalind@example.org',
    });
    s.adapter.records.set('contact/con-7', { firstName: 'Maurice', email: 'm@example.org' });
    s.adapter.records.set('opportunity/opp-1', { name: 'Franklin Labs renewal' });
    s.adapter.records.set('case/cs-1', { subject: 'Broken login' });
    return s;
  }

  beforeEach(() => {
    clock = new Date('2026-11-25T10:00:00Z');
    spans.reset();
  });

  it('fills target and recipient fields for the adapter only; record, outcome, audit and spans keep the references', async () => {
    const { adapter, executor, store, outcomes, audits, outboxText } = crm();
    const action = email(
      `Your ${OPP}`,
      `Hello ${FIRST},\nabout ${OPP}: we will write to ${EMAIL}.\nBye ${FIRST}`,
    );
    const d = decision(action);
    const r = await executor.execute(d);
    expect(r.kind).toBe('executed');

    // The adapter saw the filled text, once.
    expect(adapter.requests).toHaveLength(1);
    expect(adapter.requests[0].idempotencyKey).toBe('key-1');
    expect(sentText(adapter.requests[0])).toBe(
      'Your Franklin Labs renewal\nHello Rosalind,\nabout Franklin Labs renewal: we will write to rosalind@example.org.\nBye Rosalind',
    );
    // Each record read once, for its referenced fields only.
    expect(adapter.reads.map((q) => [q.target, q.fields])).toEqual([
      [{ objectType: 'opportunity', recordId: 'opp-1' }, ['name']],
      [{ objectType: 'contact', recordId: 'con-6' }, ['firstName', 'email']],
    ]);

    // What was decided is untouched, and the stored record keeps the references.
    expect(d.proposal!.action).toEqual(action);
    const doc = await store.get(TENANT, 'key-1');
    expect(doc?.status).toBe('executed');
    const stored = CrmAction.decode(Buffer.from(doc!.action, 'base64'));
    expect(stored).toEqual(action);
    expect(JSON.stringify(doc)).not.toMatch(/Rosalind|rosalind@|Franklin Labs/);

    // Outcome, audit record and spans carry no filled value.
    const [o] = await outcomes();
    expect(o.status).toBe(ExecutionStatus.EXECUTION_STATUS_EXECUTED);
    expect(await audits()).toBe(1);
    const text = await outboxText();
    expect(text).toContain('opp-1'); // negative control: the payloads are readable text
    for (const v of VALUES) expect(text).not.toContain(v);
    const finished = spans.getFinishedSpans();
    expect(finished.map((s) => s.name).sort()).toEqual([
      'connector.execute',
      'connector.read',
      'connector.read',
    ]);
    const spanText = JSON.stringify(
      finished.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })),
    );
    for (const v of VALUES) expect(spanText).not.toContain(v);

    // The token is bound to the payload with references; a filled payload would not match it.
    expect(verifier.verify(d.token, d.proposal!)).toEqual({ ok: true });
    expect(
      verifier.verify(d.token, { ...d.proposal!, action: adapter.requests[0].action }),
    ).toMatchObject({ ok: false, reason: 'PAYLOAD_MISMATCH' });

    // Redelivery after success: suppressed, nothing read or executed again.
    expect((await executor.execute(d)).kind).toBe('duplicate');
    expect([adapter.calls, adapter.reads.length]).toEqual([1, 2]);
  });

  it('fills a case reply from the target case', async () => {
    const { adapter, executor } = crm();
    const reply = CrmAction.fromPartial({
      kind: {
        $case: 'replyToCase',
        value: { body: 'About "⟦REF:case/cs-1/subject⟧": fixed.', public: true },
      },
    });
    const d = decision(reply, Verdict.VERDICT_AUTO, 'key-reply', {
      objectType: 'case',
      recordId: 'cs-1',
    });
    expect((await executor.execute(d)).kind).toBe('executed');
    expect(sentText(adapter.requests[0])).toBe('About "Broken login": fixed.');
  });

  it('refuses a token issued for the filled text: the approval covers the references', async () => {
    const { adapter, executor, outcomes } = crm();
    const withRefs = decision(email('Hi', `Hello ${FIRST}`));
    const filled = decision(email('Hi', 'Hello Rosalind'));
    const forged = { ...withRefs, token: filled.token };
    const r = await executor.execute(forged);
    expect(r.kind).toBe('refused');
    expect(r.kind !== 'skipped' && r.reason).toMatch(/PAYLOAD_MISMATCH/);
    expect([adapter.calls, adapter.reads.length]).toEqual([0, 0]);
    expect((await outcomes())[0].errorClass).toBe(ErrorClass.ERROR_CLASS_TOKEN_INVALID);
  });

  /** Runs a decision that must fail permanently without the adapter being called. */
  async function expectRefusedFill(
    s: ReturnType<typeof crm>,
    d: PolicyDecision,
    code: string,
    names: string[],
    reads: number,
  ) {
    const r = await s.executor.execute(d);
    expect(r.kind).toBe('failed');
    const reason = r.kind !== 'skipped' ? (r.reason ?? '') : '';
    expect(reason).toMatch(new RegExp(`^permanent ${code}: `));
    for (const n of names) expect(reason).toContain(n);
    expect(s.adapter.calls).toBe(0);
    expect(s.adapter.reads).toHaveLength(reads);
    const [o] = await s.outcomes();
    expect([o.status, o.errorClass]).toEqual([
      ExecutionStatus.EXECUTION_STATUS_FAILED,
      ErrorClass.ERROR_CLASS_PERMANENT,
    ]);
    expect(o.message).toContain(code);
    for (const n of names) expect(o.message).toContain(n);
    const doc = await s.store.get(TENANT, d.proposal!.idempotencyKey);
    expect([doc?.status, doc?.errorKind, doc?.errorCode]).toEqual(['failed', 'permanent', code]);
    const text = await s.outboxText();
    expect(text).toContain(code);
    for (const v of [...VALUES, 'Maurice']) {
      expect(text).not.toContain(v);
      expect(reason).not.toContain(v);
    }
    // Dead-lettered by the caller; a redelivery does not try again.
    expect((await s.executor.execute(d)).kind).toBe('duplicate');
    expect(s.adapter.calls).toBe(0);
    expect(s.adapter.reads).toHaveLength(reads);
    return o;
  }

  it("refuses a reference to another contact than the email's recipient", async () => {
    const s = crm();
    await expectRefusedFill(
      s,
      decision(email('Hi', `Hello ${FIRST}, meet ⟦REF:contact/con-7/firstName⟧`)),
      'MERGE_FIELD_NOT_ALLOWED',
      ['contact/con-7/firstName'],
      0,
    );
  });

  it('refuses a contact reference in a case reply (only the target case may be read)', async () => {
    const s = crm();
    const reply = CrmAction.fromPartial({
      kind: { $case: 'replyToCase', value: { body: `Dear ${FIRST}`, public: true } },
    });
    await expectRefusedFill(
      s,
      decision(reply, Verdict.VERDICT_AUTO, 'key-r', { objectType: 'case', recordId: 'cs-1' }),
      'MERGE_FIELD_NOT_ALLOWED',
      ['contact/con-6/firstName'],
      0,
    );
  });

  it('refuses a field the connector does not declare', async () => {
    const s = crm();
    s.adapter.records.set('contact/con-6', { firstName: 'Rosalind', ssn: '123-45-6789' });
    await expectRefusedFill(
      s,
      decision(email('Hi', `Hello ${FIRST}, ⟦REF:contact/con-6/ssn⟧`)),
      'MERGE_FIELD_NOT_ALLOWED',
      ['contact/con-6/ssn', 'not declared'],
      0,
    );
  });

  it('refuses a pseudonym token left in the text (not restored by the orchestrator)', async () => {
    const s = crm();
    await expectRefusedFill(
      s,
      decision(email('For ⟦PERSON_1⟧', `Hello ${FIRST}, ⟦EMAIL_2⟧`)),
      'PSEUDONYM_UNRESOLVED',
      ['⟦PERSON_1⟧', '⟦EMAIL_2⟧'],
      0,
    );
  });

  it('refuses a reference to a record the CRM does not have', async () => {
    const s = crm();
    await expectRefusedFill(
      s,
      decision(email('Hi', `Hello ⟦REF:contact/con-404/firstName⟧`, 'con-404')),
      'MERGE_FIELD_RECORD_NOT_FOUND',
      ['contact/con-404'],
      1,
    );
  });

  it('refuses a field with no value, naming the reference and not the other values', async () => {
    const s = crm();
    s.adapter.records.set('contact/con-6', { firstName: 'Rosalind', email: '  ' });
    await expectRefusedFill(
      s,
      decision(email('Hi', `Hello ${FIRST}, ${EMAIL}`)),
      'MERGE_FIELD_NO_VALUE',
      ['contact/con-6/email'],
      1,
    );
  });

  it('retries a retryable read like a retryable execute, and records it FAILED on the final attempt', async () => {
    const { adapter, executor, store } = crm();
    const d = decision(email('Hi', `Hello ${FIRST}`));
    adapter.readFailures.push(...[1, 2].map(() => ConnectorError.retryable('UNAVAILABLE', 'down')));
    await expect(executor.execute(d)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect((await store.get(TENANT, 'key-1'))?.status).toBe('executing');
    expect(adapter.calls).toBe(0);
    adapter.readFailures.push(...[1, 2].map(() => ConnectorError.retryable('UNAVAILABLE', 'down')));
    const r = await executor.execute(d, { finalAttempt: true });
    expect(r.kind).toBe('failed');
    const doc = await store.get(TENANT, 'key-1');
    expect([doc?.status, doc?.errorKind, doc?.attempts]).toEqual(['failed', 'retryable', 2]);
    expect(adapter.calls).toBe(0);
    // Replayed once the CRM is back: read, filled, executed once.
    expect((await executor.execute(d)).kind).toBe('executed');
    expect(sentText(adapter.requests[0])).toBe('Hi\nHello Rosalind');
    expect(adapter.calls).toBe(1);
  });

  it('executes an outbound text without references as written', async () => {
    const { adapter, executor } = crm();
    const d = decision(email('Hi', 'Hello there'));
    expect((await executor.execute(d)).kind).toBe('executed');
    expect(adapter.reads).toHaveLength(0);
    expect(adapter.requests[0].action).toEqual(d.proposal!.action);
  });
});
