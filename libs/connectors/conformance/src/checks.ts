import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ErrorClass, ExecutionStatus, actionTypeOf } from '@mandate/contracts';
import {
  ConnectorError,
  EXECUTIONS,
  EXECUTION_EVENTS,
  ManagedConnector,
  SafeExecutor,
  TenantRateLimiter,
  capabilityProblems,
  objectSpec,
  type ChangeRecord,
  type ConnectorAdapter,
} from '@mandate/connector-sdk';
import { InMemoryDocumentStore } from '@mandate/storage';
import { TestPolicy } from './decisions';
import type { ActionSample, ConformanceHarness, HarnessFactory } from './harness';

export type CheckKind = 'structural' | 'behavioural';

/** One conformance check. `run` throws (an AssertionError or the adapter's error) on failure. */
export interface ConformanceCheck {
  readonly id: string;
  readonly kind: CheckKind;
  readonly title: string;
  run(harness: ConformanceHarness): Promise<void>;
}

/** A virtual clock: sleeps are recorded and advance it, so waits cost no real time. */
function virtualClock() {
  let now = Date.now();
  const delays: number[] = [];
  return {
    delays,
    now: () => now,
    sleep: async (ms: number) => {
      delays.push(ms);
      now += ms;
    },
  };
}

function managed(
  h: ConformanceHarness,
  adapter: ConnectorAdapter = h.adapter,
  clock = virtualClock(),
) {
  return new ManagedConnector(adapter, {
    tenantId: h.tenantId,
    retry: { maxAttempts: 4, initialDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: 60_000 },
    sleep: clock.sleep,
    limiter: new TenantRateLimiter(adapter.capabilities.rateLimit, {
      sleep: clock.sleep,
      now: clock.now,
    }),
  });
}

function executor(
  h: ConformanceHarness,
  policy: TestPolicy,
  adapter: ConnectorAdapter = h.adapter,
) {
  const connector = managed(h, adapter);
  const store = new InMemoryDocumentStore(EXECUTIONS);
  const events = new InMemoryDocumentStore(EXECUTION_EVENTS);
  return {
    store,
    events,
    executor: new SafeExecutor(() => connector, store, policy.verifier, events),
  };
}

async function seeded(h: ConformanceHarness, sample: ActionSample) {
  const recordId = await h.seed(sample.objectType, sample.seed);
  return { objectType: sample.objectType, recordId };
}

function firstSample(h: ConformanceHarness): ActionSample {
  const s = h.samples[0];
  assert.ok(s, 'the harness provides no action samples');
  return s;
}

async function expectConnectorError(
  p: Promise<unknown>,
  kind: ConnectorError['kind'],
  what: string,
): Promise<ConnectorError> {
  try {
    await p;
  } catch (err) {
    assert.ok(
      err instanceof ConnectorError,
      `${what}: expected a ConnectorError, got ${String(err)}`,
    );
    assert.equal(
      err.kind,
      kind,
      `${what}: expected a ${kind} error, got ${err.kind} ${err.code}: ${err.message}`,
    );
    return err;
  }
  assert.fail(`${what}: expected a ${kind} error, but the call succeeded`);
}

const structural: ConformanceCheck[] = [
  {
    id: 'capabilities-well-formed',
    kind: 'structural',
    title:
      'declares well-formed capabilities (objects, classified fields, known action types, limits)',
    run: async (h) => assert.deepEqual(capabilityProblems(h.adapter.capabilities), []),
  },
  {
    id: 'change-feed-implemented',
    kind: 'structural',
    title: 'implements the change feed it declares',
    run: async (h) => {
      const c = h.adapter.capabilities;
      if (c.changeFeed === 'polling')
        assert.equal(
          typeof h.adapter.pollChanges,
          'function',
          'declares polling but has no pollChanges',
        );
      if (c.changeFeed === 'webhook') {
        assert.equal(
          typeof h.adapter.parseWebhook,
          'function',
          'declares webhooks but has no parseWebhook',
        );
        assert.equal(
          typeof h.takeWebhooks,
          'function',
          'webhook adapters need harness.takeWebhooks',
        );
      }
    },
  },
  {
    id: 'compensation-implemented',
    kind: 'structural',
    title: 'implements compensate when it declares reversible actions',
    run: async (h) => {
      if (h.adapter.capabilities.reversibleActions.length > 0)
        assert.equal(
          typeof h.adapter.compensate,
          'function',
          'declares reversible actions but has no compensate',
        );
    },
  },
  {
    id: 'samples-cover-actions',
    kind: 'structural',
    title: 'the harness has a sample for every supported action, on a declared object',
    run: async (h) => {
      const c = h.adapter.capabilities;
      const sampled = new Set(h.samples.map((s) => actionTypeOf(s.action)));
      for (const a of c.actions) assert.ok(sampled.has(a), `no sample for action "${a}"`);
      for (const s of h.samples) {
        assert.ok(
          objectSpec(c, s.objectType),
          `sample targets undeclared object "${s.objectType}"`,
        );
        assert.ok(
          c.actions.includes(actionTypeOf(s.action) ?? ''),
          `sample action ${actionTypeOf(s.action)} is not supported`,
        );
      }
    },
  },
];

const behavioural: ConformanceCheck[] = [
  {
    id: 'executes-actions',
    kind: 'behavioural',
    title: 'executes every supported action and the CRM shows its effect',
    run: async (h) => {
      const m = managed(h);
      for (const sample of h.samples) {
        const target = await seeded(h, sample);
        const before = await h.writeCount();
        const r = await m.execute({
          tenantId: h.tenantId,
          idempotencyKey: `conf-${randomUUID()}`,
          target,
          action: sample.action,
        });
        assert.equal(r.status, 'applied', `${actionTypeOf(sample.action)}: status`);
        assert.ok(
          (await h.writeCount()) > before,
          `${actionTypeOf(sample.action)}: the CRM saw no write`,
        );
        const fields = await h.inspect(target.objectType, target.recordId);
        assert.ok(
          fields && sample.applied(fields),
          `${actionTypeOf(sample.action)}: effect not visible in the CRM`,
        );
      }
    },
  },
  {
    id: 'idempotent-under-redelivery',
    kind: 'behavioural',
    title: 'executes a decision once, however often and concurrently it is delivered',
    run: async (h) => {
      const policy = new TestPolicy();
      const sample = firstSample(h);
      const target = await seeded(h, sample);
      const decision = policy.auto(policy.proposal(h.tenantId, target, sample.action));
      const { executor: ex } = executor(h, policy);
      const before = await h.writeCount();
      // Two concurrent deliveries: one executes; the other is told to come back later (the bus
      // retries it) or, if it arrives after the first finished, is suppressed.
      const concurrent = await Promise.allSettled([ex.execute(decision), ex.execute(decision)]);
      const ran = concurrent.filter((r) => r.status === 'fulfilled' && r.value.kind === 'executed');
      assert.equal(
        ran.length,
        1,
        `two concurrent deliveries did not execute exactly once: ${concurrent
          .map((r) =>
            r.status === 'fulfilled'
              ? `${r.value.kind}${r.value.reason ? ` (${r.value.reason})` : ''}`
              : String(r.reason),
          )
          .join('; ')}`,
      );
      for (const r of concurrent)
        if (r.status === 'rejected')
          assert.ok(
            r.reason instanceof ConnectorError && r.reason.code === 'IN_PROGRESS',
            `a concurrent delivery failed: ${String(r.reason)}`,
          );
      const later = [await ex.execute(decision), await ex.execute(decision)];
      for (const r of later) {
        assert.equal(r.kind, 'duplicate', 'a redelivery after execution was not suppressed');
        assert.equal(r.outcome.status, ExecutionStatus.EXECUTION_STATUS_DUPLICATE_SUPPRESSED);
      }
      const writes = (await h.writeCount()) - before;
      // A second decision for the same key (re-decided, replayed) executes nothing either.
      const again = policy.auto(decision.proposal!);
      assert.equal((await ex.execute(again)).kind, 'duplicate');
      assert.equal(
        (await h.writeCount()) - before,
        writes,
        'a second decision for the key wrote to the CRM',
      );
      if (h.adapter.capabilities.crmSideIdempotency) {
        // Crash after the CRM write, before the bookkeeping: a restarted connector retries the
        // same key, and the CRM itself refuses to apply it twice.
        const restarted = managed(h, await h.restartAdapter());
        const r = await restarted.execute({
          tenantId: h.tenantId,
          idempotencyKey: decision.proposal!.idempotencyKey,
          target,
          action: sample.action,
        });
        assert.equal(
          r.status,
          'already-applied',
          'declares CRM-side idempotency but re-applied the key',
        );
        assert.equal(
          (await h.writeCount()) - before,
          writes,
          'the retried key wrote to the CRM again',
        );
      }
    },
  },
  {
    id: 'refuses-invalid-tokens',
    kind: 'behavioural',
    title: 'refuses missing, forged, expired, mismatched and unapproved tokens and touches nothing',
    run: async (h) => {
      const policy = new TestPolicy();
      const sample = firstSample(h);
      const target = await seeded(h, sample);
      const other = await seeded(h, sample);
      const { executor: ex } = executor(h, policy);
      const snapshot = await h.inspect(target.objectType, target.recordId);
      const before = await h.writeCount();
      const p = () => policy.proposal(h.tenantId, target, sample.action);
      const cases: Array<[string, ReturnType<TestPolicy['auto']>]> = [
        ['missing', policy.withoutToken(p())],
        ['forged', policy.forged(p())],
        ['expired', policy.expired(p())],
        [
          'bound to another record',
          policy.mismatched(policy.proposal(h.tenantId, other, sample.action), p()),
        ],
        ['approvals missing', policy.unapproved(p())],
      ];
      // A payload edited after signing: the token no longer matches it.
      const signed = policy.auto(p());
      const tampered = { ...signed, proposal: { ...signed.proposal!, target: other } };
      cases.push(['payload tampered after signing', tampered]);
      for (const [what, decision] of cases) {
        const r = await ex.execute(decision);
        assert.equal(r.kind, 'refused', `${what}: expected refused, got ${r.kind}`);
        assert.equal(
          r.outcome.status,
          ExecutionStatus.EXECUTION_STATUS_REFUSED,
          `${what}: outcome status`,
        );
        assert.equal(
          r.outcome.errorClass,
          ErrorClass.ERROR_CLASS_TOKEN_INVALID,
          `${what}: error class`,
        );
      }
      assert.equal(await h.writeCount(), before, 'a refused decision wrote to the CRM');
      assert.deepEqual(await h.inspect(target.objectType, target.recordId), snapshot);
      // Positive control: the same executor does execute a valid token.
      const valid = await ex.execute(
        policy.auto(policy.proposal(h.tenantId, other, sample.action)),
      );
      assert.equal(
        valid.kind,
        'executed',
        `a valid token was not executed (${valid.kind}: ${valid.reason ?? ''})`,
      );
    },
  },
  {
    id: 'maps-errors',
    kind: 'behavioural',
    title: 'maps CRM errors to the taxonomy: retryable, permanent, conflict, auth-expired',
    run: async (h) => {
      const sample = firstSample(h);
      const req = async (s: ActionSample = sample, action = s.action) => ({
        tenantId: h.tenantId,
        idempotencyKey: `conf-${randomUUID()}`,
        target: await seeded(h, s),
        action,
      });
      h.injectFault({ kind: 'server-error' });
      await expectConnectorError(
        h.adapter.execute(await req(), { attempt: 1 }),
        'retryable',
        'server error',
      );
      h.injectFault({ kind: 'server-error' });
      const r = await managed(h).execute(await req());
      assert.equal(r.status, 'applied', 'a transient error was not retried to success');
      h.injectFault({ kind: 'validation' });
      await expectConnectorError(
        h.adapter.execute(await req(), { attempt: 1 }),
        'permanent',
        'validation error',
      );
      h.injectFault({ kind: 'auth-expired' });
      await expectConnectorError(
        h.adapter.execute(await req(), { attempt: 1 }),
        'auth-expired',
        'expired credentials',
      );
      await expectConnectorError(
        h.adapter.execute(
          {
            tenantId: h.tenantId,
            idempotencyKey: `conf-${randomUUID()}`,
            target: { objectType: sample.objectType, recordId: 'does-not-exist-0000' },
            action: sample.action,
          },
          { attempt: 1 },
        ),
        'permanent',
        'missing record',
      );
      for (const s of h.samples.filter((x) => x.conflicting)) {
        const request = await req(s, s.conflicting);
        const before = await h.inspect(request.target.objectType, request.target.recordId);
        const writes = await h.writeCount();
        await expectConnectorError(
          h.adapter.execute(request, { attempt: 1 }),
          'conflict',
          `stale ${actionTypeOf(s.action)}`,
        );
        assert.equal(await h.writeCount(), writes, 'a conflicting action wrote to the CRM');
        assert.deepEqual(
          await h.inspect(request.target.objectType, request.target.recordId),
          before,
        );
      }
    },
  },
  {
    id: 'rate-limits',
    kind: 'behavioural',
    title: 'surfaces the CRM rate limit with its Retry-After, and the SDK waits it out',
    run: async (h) => {
      const sample = firstSample(h);
      const target = await seeded(h, sample);
      h.injectFault({ kind: 'rate-limit', retryAfterSeconds: 2 });
      const err = await expectConnectorError(
        h.adapter.execute(
          {
            tenantId: h.tenantId,
            idempotencyKey: `conf-${randomUUID()}`,
            target,
            action: sample.action,
          },
          { attempt: 1 },
        ),
        'retryable',
        'rate limited',
      );
      assert.equal(err.retryAfterMs, 2000, 'Retry-After not surfaced as retryAfterMs');
      const clock = virtualClock();
      h.injectFault({ kind: 'rate-limit', retryAfterSeconds: 2 });
      const r = await managed(h, h.adapter, clock).execute({
        tenantId: h.tenantId,
        idempotencyKey: `conf-${randomUUID()}`,
        target,
        action: sample.action,
      });
      assert.equal(r.status, 'applied');
      assert.ok(
        clock.delays.some((d) => d >= 2000),
        `the SDK did not wait out Retry-After (waits: ${clock.delays.join(', ')})`,
      );
    },
  },
  {
    id: 'reads-requested-fields',
    kind: 'behavioural',
    title: 'reads only the requested fields, and null for a missing record',
    run: async (h) => {
      const sample = firstSample(h);
      const target = await seeded(h, sample);
      const wanted = Object.keys(sample.seed).slice(0, 2);
      assert.ok(wanted.length > 0, 'the first sample seeds no fields');
      const record = await managed(h).read({ tenantId: h.tenantId, target, fields: wanted });
      assert.ok(record, 'seeded record not found');
      assert.deepEqual(
        Object.keys(record.fields).filter((k) => !wanted.includes(k)),
        [],
        'returned fields that were not requested',
      );
      for (const f of wanted) assert.deepEqual(record.fields[f], sample.seed[f], `field ${f}`);
      const missing = await managed(h).read({
        tenantId: h.tenantId,
        target: { ...target, recordId: 'does-not-exist-0000' },
        fields: wanted,
      });
      assert.equal(missing, null);
    },
  },
  {
    id: 'finds-records',
    kind: 'behavioural',
    title:
      'finds records by exact field values, only the requested fields, within the limit (when it implements find)',
    run: async (h) => {
      // `find` is optional: an adapter without it is answered FIND_UNSUPPORTED by the SDK.
      if (typeof h.adapter.find !== 'function') return;
      const sample = firstSample(h);
      const field = Object.keys(sample.seed).find((k) => typeof sample.seed[k] === 'string');
      assert.ok(field, 'the first sample seeds no string field to find records by');
      const value = sample.seed[field] as string;
      const ids = [await seeded(h, sample), await seeded(h, sample), await seeded(h, sample)].map(
        (t) => t.recordId,
      );
      // The same value in another case: not equal (CRMs whose search ignores case must re-check).
      const variant = value.toUpperCase() !== value ? value.toUpperCase() : value.toLowerCase();
      const other =
        variant !== value
          ? await h.seed(sample.objectType, { ...sample.seed, [field]: variant })
          : undefined;
      const m = managed(h);
      const query = {
        tenantId: h.tenantId,
        objectType: sample.objectType,
        equals: { [field]: value },
        fields: [field],
      };
      const all = await m.find({ ...query, limit: 200 });
      const found = all.records.map((r) => r.target.recordId);
      for (const id of ids) assert.ok(found.includes(id), `a seeded record was not found (${id})`);
      assert.ok(
        other === undefined || !found.includes(other),
        'matched a value that differs in case: conditions are exact string equality',
      );
      for (const r of all.records) {
        assert.equal(r.target.objectType, sample.objectType, 'a record of another object type');
        assert.deepEqual(
          Object.keys(r.fields).filter((k) => k !== field),
          [],
          'returned fields that were not requested',
        );
        assert.equal(String(r.fields[field]), value, `a record whose ${field} is not the value`);
      }
      assert.equal(new Set(found).size, found.length, 'a record was returned twice');
      assert.equal(all.truncated, false, 'says truncated though every match was returned');
      const page = await m.find({ ...query, limit: 2 });
      assert.equal(page.records.length, 2, 'limit 2 did not return 2 of 3+ matches');
      assert.equal(page.truncated, true, 'a limited answer does not say truncated');
      for (const r of page.records)
        assert.ok(found.includes(r.target.recordId), 'limit 2 returned a non-matching record');
      const none = await m.find({ ...query, equals: { [field]: `${value} ${randomUUID()}` } });
      assert.deepEqual(none.records, [], 'matched a value that is not equal');
      assert.equal(none.truncated, false);
      const err = await expectConnectorError(
        m.find({ ...query, equals: { 'no such field': 'x' } }),
        'permanent',
        'an undeclared field',
      );
      assert.equal(err.code, 'INVALID_FIND_REQUEST');
    },
  },
  {
    id: 'change-feed',
    kind: 'behavioural',
    title: 'delivers changes in order and resumes from a cursor without gaps or repeats',
    run: async (h) => {
      const sample = firstSample(h);
      const field = Object.keys(sample.seed)[0];
      assert.ok(field, 'the first sample seeds no fields');
      const ids = [await seeded(h, sample), await seeded(h, sample), await seeded(h, sample)];
      if (h.adapter.capabilities.changeFeed === 'polling') {
        const poll = h.adapter.pollChanges!.bind(h.adapter);
        let cursor: string | undefined;
        for (let i = 0; i < 100; i++) {
          const page = await poll(h.tenantId, cursor, 100, { attempt: 1 });
          cursor = page.nextCursor;
          if (!page.hasMore) break;
        }
        for (const [i, t] of ids.entries())
          await h.touch(t.objectType, t.recordId, {
            [field]: sample.seed[field] === `v${i}` ? `w${i}` : `v${i}`,
          });
        const first = await poll(h.tenantId, cursor, 2, { attempt: 1 });
        assert.deepEqual(
          first.changes.map((c) => c.target.recordId),
          ids.slice(0, 2).map((t) => t.recordId),
          'first page out of order',
        );
        assert.ok(first.hasMore, 'first page says nothing more');
        const again = await poll(h.tenantId, cursor, 2, { attempt: 1 });
        assert.deepEqual(
          again.changes.map((c) => c.sourceId),
          first.changes.map((c) => c.sourceId),
          'a re-read page has other source ids',
        );
        const restarted = await h.restartAdapter();
        const rest = await restarted.pollChanges!(h.tenantId, first.nextCursor, 10, { attempt: 1 });
        assert.deepEqual(
          rest.changes.map((c) => c.target.recordId),
          [ids[2].recordId],
          'resumed feed has gaps or repeats',
        );
        assert.equal(rest.hasMore, false);
        const empty = await restarted.pollChanges!(h.tenantId, rest.nextCursor, 10, { attempt: 1 });
        assert.deepEqual(empty.changes, []);
      } else if (h.adapter.capabilities.changeFeed === 'webhook') {
        await h.takeWebhooks!();
        for (const [i, t] of ids.entries())
          await h.touch(t.objectType, t.recordId, { [field]: `v${i}` });
        const hooks = await h.takeWebhooks!();
        assert.ok(hooks.length > 0, 'no webhook calls for three changes');
        const changes: ChangeRecord[] = [];
        for (const hook of hooks)
          changes.push(...(await h.adapter.parseWebhook!(hook, { attempt: 1 })));
        const order = changes
          .map((c) => c.target.recordId)
          .filter((id, i, all) => all.indexOf(id) === i);
        assert.deepEqual(
          order,
          ids.map((t) => t.recordId),
          'changes out of order',
        );
        const replay = await h.adapter.parseWebhook!(hooks[0], { attempt: 1 });
        assert.deepEqual(
          replay.map((c) => c.sourceId),
          changes.slice(0, replay.length).map((c) => c.sourceId),
          'a retried webhook has other source ids',
        );
        const tampered = {
          ...hooks[0],
          rawBody: Buffer.concat([hooks[0].rawBody, Buffer.from(' ')]),
        };
        const err = await expectConnectorError(
          h.adapter.parseWebhook!(tampered, { attempt: 1 }),
          'permanent',
          'tampered webhook',
        );
        assert.equal(err.code, 'WEBHOOK_SIGNATURE_INVALID');
      }
    },
  },
  {
    id: 'compensates',
    kind: 'behavioural',
    title: 'undoes every reversible action',
    run: async (h) => {
      const reversible = h.samples.filter((s) =>
        h.adapter.capabilities.reversibleActions.includes(actionTypeOf(s.action) ?? ''),
      );
      const m = managed(h);
      for (const sample of reversible) {
        const target = await seeded(h, sample);
        const before = await h.inspect(target.objectType, target.recordId);
        const request = {
          tenantId: h.tenantId,
          idempotencyKey: `conf-${randomUUID()}`,
          target,
          action: sample.action,
        };
        const r = await m.execute(request);
        assert.ok(r.undo, `${actionTypeOf(sample.action)}: executed without undo information`);
        await m.compensate({ ...request, undo: JSON.parse(JSON.stringify(r.undo)) });
        const after = await h.inspect(target.objectType, target.recordId);
        for (const k of Object.keys(sample.seed))
          assert.deepEqual(
            after?.[k],
            before?.[k],
            `${actionTypeOf(sample.action)}: field ${k} not restored`,
          );
      }
    },
  },
];

/** Every check, structural first. */
export const CONFORMANCE_CHECKS: readonly ConformanceCheck[] = [...structural, ...behavioural];

export interface CheckResult {
  readonly id: string;
  readonly kind: CheckKind;
  readonly title: string;
  readonly passed: boolean;
  readonly error?: string;
}

/** Runs the kit without a test framework: each check on a fresh harness. */
export async function runConformance(factory: HarnessFactory): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of CONFORMANCE_CHECKS) {
    const harness = await factory();
    try {
      await check.run(harness);
      results.push({ id: check.id, kind: check.kind, title: check.title, passed: true });
    } catch (err) {
      results.push({
        id: check.id,
        kind: check.kind,
        title: check.title,
        passed: false,
        error:
          err instanceof ConnectorError
            ? `${err.name} ${err.kind} ${err.code}: ${err.message}`
            : err instanceof Error
              ? `${err.name}: ${err.message}`
              : String(err),
      });
    } finally {
      await harness.close();
    }
  }
  return results;
}
