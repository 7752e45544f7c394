import {
  ActionProposal,
  AuditKind,
  AuditRecord,
  PolicyDecision,
  Verdict,
} from '@mandate/contracts';
import { Topics } from '@mandate/messaging';
import { InMemoryDocumentStore, tenantId, type OutboxEntry } from '@mandate/storage';
import type { AutonomyAuditEvent } from '../autonomy/autonomy-audit';
import {
  DEFAULT_CIRCUIT_BREAKER_CONFIG,
  type CircuitBreakerConfig,
} from '../autonomy/circuit-breakers';
import { parseAutonomyMatrix } from '../autonomy/autonomy-matrix';
import { readBundleFiles } from '../cedar/bundle-directory.loader';
import { parseBundle } from '../cedar/bundle.parser';
import { BundleRegistry } from '../cedar/bundle.registry';
import type { TrustAssessment } from '../trust/trust-model';
import {
  DECISIONS,
  MalformedProposalError,
  PolicyDecider,
  SHADOW_DIVERGENCES,
  type DecisionDoc,
  type ShadowDivergenceDoc,
} from './policy-decider';
import { DEFAULT_BUNDLE_DIR, engineFixture, FIXTURE_NOW, trustAfter } from './engine.fixtures';
import { PolicyEngine } from './policy-engine';
import type { FactsResult, RecordReader } from './record-reader';

const NOW = FIXTURE_NOW;
const BUNDLE_DIR = DEFAULT_BUNDLE_DIR;
const ACME = tenantId('acme');
const AGENT = 'lead-qualification';

function proposalOf(id: string, overrides: Partial<ActionProposal> = {}): ActionProposal {
  return ActionProposal.fromPartial({
    proposalId: id,
    tenantId: 'acme',
    correlationId: `c-${id}`,
    agentId: AGENT,
    idempotencyKey: `k-${id}`,
    confidence: 0.95,
    // The agent's rationale claims a harmless industry: policy must not believe it.
    rationale: 'industry: logistics',
    target: { objectType: 'lead', recordId: 'lead-1' },
    action: { kind: { $case: 'qualifyLead', value: { score: 90, reason: 'fit' } } },
    ...overrides,
  });
}

/** The CRM as seen through its connector: records by `tenant/object/id`, or a failure. */
class StubReader implements RecordReader {
  readonly calls: string[] = [];
  fields: Record<string, unknown> | undefined = {
    industry: 'logistics',
    status: 'New',
    customerTier: 'smb',
  };
  failure?: Error;

  async read(
    tenant: string,
    objectType: string,
    recordId: string,
  ): Promise<Record<string, unknown> | undefined> {
    this.calls.push(`${tenant}/${objectType}/${recordId}`);
    if (this.failure) throw this.failure;
    return this.fields;
  }
}

type MatrixRows = Record<string, Record<string, string>>;

/** The default bundle with some matrix rows replaced, under another version. */
async function candidateBundle(rows: MatrixRows, version: string) {
  const files = await readBundleFiles(BUNDLE_DIR);
  const matrix = JSON.parse(files['matrix.json']);
  matrix.version = `matrix-${version}`;
  Object.assign(matrix.cells, rows);
  const manifest = JSON.parse(files['bundle.json']);
  manifest.version = version;
  return parseBundle({
    ...files,
    'matrix.json': JSON.stringify(matrix),
    'bundle.json': JSON.stringify(manifest),
  });
}

/**
 * Low and medium risk need a human whatever the trust: the low-risk/high-trust cell is APPROVE_1
 * (the medium row must follow, the matrix has to stay monotone).
 */
const STRICT_ROWS: MatrixRows = {
  low: { untrusted: 'APPROVE_1', low: 'APPROVE_1', medium: 'APPROVE_1', high: 'APPROVE_1' },
  medium: { untrusted: 'APPROVE_1', low: 'APPROVE_1', medium: 'APPROVE_1', high: 'APPROVE_1' },
};
/** Low risk is at most AUTO_WITH_NOTICE: the candidate still decides autonomously. */
const NOTICE_ROWS: MatrixRows = {
  low: {
    untrusted: 'APPROVE_1',
    low: 'APPROVE_1',
    medium: 'AUTO_WITH_NOTICE',
    high: 'AUTO_WITH_NOTICE',
  },
};

interface SetupOptions {
  trust?: TrustAssessment;
  breakerConfig?: CircuitBreakerConfig;
  shadowRows?: MatrixRows;
  shadowActive?: boolean;
}

async function setup(opts: SetupOptions = {}) {
  const { engine, verifier, breakers, registry, common } = await engineFixture({
    trust: opts.trust,
    breakerConfig: opts.breakerConfig,
  });

  const shadowRegistry = new BundleRegistry();
  const candidate = await candidateBundle(opts.shadowRows ?? STRICT_ROWS, '1.1.0-candidate');
  parseAutonomyMatrix(candidate.files['matrix.json']); // throws on a non-monotone candidate
  const shadowOffered = shadowRegistry.offer(candidate, NOW);
  if (!shadowOffered.ok) throw new Error(shadowOffered.errors.join('\n'));
  const shadowEngine = new PolicyEngine({
    registry: shadowRegistry,
    ...common,
    issueTokens: false,
  });
  let shadowActive = opts.shadowActive ?? false;

  const reader = new StubReader();
  const decisions = new InMemoryDocumentStore(DECISIONS, { clock: () => NOW });
  const divergences = new InMemoryDocumentStore(SHADOW_DIVERGENCES, { clock: () => NOW });
  const trips: AutonomyAuditEvent[] = [];
  const onBreakerTrip = jest.fn(async (audit: AutonomyAuditEvent) => {
    trips.push(audit);
  });
  const decider = new PolicyDecider({
    engine,
    reader,
    decisions,
    divergences,
    breakers,
    shadow: { active: () => shadowActive, engine: shadowEngine },
    clock: () => NOW,
    onBreakerTrip,
  });
  return {
    decider,
    engine,
    shadowEngine,
    registry,
    shadowRegistry,
    reader,
    decisions,
    divergences,
    breakers,
    verifier,
    onBreakerTrip,
    trips,
    setShadowActive: (on: boolean) => {
      shadowActive = on;
    },
  };
}

/** Every pending outbox entry of a store, by document id. */
async function outboxOf(store: InMemoryDocumentStore<{ id: string }>) {
  const pending = await store.pendingOutbox({ limit: 1000 });
  const byDoc = new Map<string, readonly OutboxEntry[]>();
  for (const p of pending) byDoc.set(p.documentId, p.entries);
  return { byDoc, all: pending.flatMap((p) => p.entries) };
}

const decodeAudit = (e: OutboxEntry) => AuditRecord.decode(e.payload);
const decodeDecision = (e: OutboxEntry) => PolicyDecision.decode(e.payload);
const AUTONOMOUS = [Verdict.VERDICT_AUTO, Verdict.VERDICT_AUTO_WITH_NOTICE];

describe('PolicyDecider.decideAndRecord', () => {
  describe('facts come from the RecordReader, never from the proposal', () => {
    it('asks the CRM for the target record of the proposal tenant', async () => {
      const { decider, reader } = await setup();
      await decider.decideAndRecord(proposalOf('p-1'));
      expect(reader.calls).toEqual(['acme/lead/lead-1']);
    });

    it('requires a human when the CRM says the lead is in finance, even for a highly trusted agent', async () => {
      const { decider, reader } = await setup({ trust: trustAfter(40) });
      reader.fields = { industry: 'finance', status: 'New', customerTier: 'smb' };
      const { decision, recorded } = await decider.decideAndRecord(proposalOf('p-1'));
      expect(recorded).toBe(true);
      expect(decision.verdict).toBe(Verdict.VERDICT_APPROVE_1);
      expect(decision.token).toBeUndefined();
      expect(decision.explanation?.trustBand).toBe('high');
    });

    it('lets the same trusted agent act on its own when the CRM says logistics', async () => {
      const { decider, reader, verifier } = await setup({ trust: trustAfter(40) });
      reader.fields = { industry: 'logistics', status: 'New', customerTier: 'smb' };
      const p = proposalOf('p-1');
      const { decision } = await decider.decideAndRecord(p);
      expect(AUTONOMOUS).toContain(decision.verdict);
      expect(verifier.verify(decision.token, p)).toEqual({ ok: true });
    });

    it('denies with FACTS_UNAVAILABLE when the CRM read fails, and still records the decision', async () => {
      const { decider, reader, decisions } = await setup();
      reader.failure = new Error('CRM timeout');
      const { decision, recorded } = await decider.decideAndRecord(proposalOf('p-1'));
      expect(decision.verdict).toBe(Verdict.VERDICT_DENY);
      expect(decision.token).toBeUndefined();
      expect(decision.explanation?.reasonCodes).toEqual(['FACTS_UNAVAILABLE']);
      expect(recorded).toBe(true);
      const doc = await decisions.get(ACME, 'p-1');
      expect(doc?.verdict).toBe('VERDICT_DENY');
      expect(doc?.decisionId).toBe(decision.decisionId);
      const { all } = await outboxOf(decisions);
      expect(all.filter((e) => e.topic === Topics.policyDecisions.name)).toHaveLength(1);
    });

    it('denies with RECORD_NOT_FOUND when the CRM has no such record, and still records the decision', async () => {
      const { decider, reader, decisions } = await setup();
      reader.fields = undefined;
      const { decision, recorded } = await decider.decideAndRecord(proposalOf('p-1'));
      expect(decision.verdict).toBe(Verdict.VERDICT_DENY);
      expect(decision.explanation?.reasonCodes).toEqual(['RECORD_NOT_FOUND']);
      expect(recorded).toBe(true);
      expect((await decisions.get(ACME, 'p-1'))?.verdict).toBe('VERDICT_DENY');
    });
  });

  describe('recording', () => {
    it('stores agent, action type and bundle version, with exactly one decision event and one DECISION audit in the same document', async () => {
      const { decider, decisions, registry } = await setup();
      const p = proposalOf('p-1');
      const { decision, recorded } = await decider.decideAndRecord(p);
      expect(recorded).toBe(true);

      const doc = (await decisions.get(ACME, 'p-1')) as DecisionDoc;
      expect(doc).toMatchObject({
        id: 'p-1',
        decisionId: decision.decisionId,
        verdict: Verdict[decision.verdict],
        correlationId: 'c-p-1',
        agentId: AGENT,
        actionType: 'qualify_lead',
        bundleVersion: registry.active()?.identity.version,
        decidedAt: NOW,
      });
      expect(doc.bundleVersion).toBe('1.0.0');
      expect(doc.bundleVersion).toBe(decision.explanation?.bundleVersion);

      const { byDoc, all } = await outboxOf(decisions);
      // Both messages live in the decision document's own outbox: one atomic write.
      expect([...byDoc.keys()]).toEqual(['p-1']);
      expect(all).toHaveLength(2);
      const events = all.filter((e) => e.topic === Topics.policyDecisions.name);
      const audits = all.filter((e) => e.topic === Topics.auditRecords.name);
      expect(events).toHaveLength(1);
      expect(audits).toHaveLength(1);

      const announced = decodeDecision(events[0]);
      expect(announced.decisionId).toBe(decision.decisionId);
      expect(announced.verdict).toBe(decision.verdict);
      expect(announced.proposal?.proposalId).toBe('p-1');

      const audit = decodeAudit(audits[0]);
      expect(audit.kind).toBe(AuditKind.AUDIT_KIND_DECISION);
      expect(audit.tenantId).toBe('acme');
      expect(audit.correlationId).toBe('c-p-1');
      expect(audit.actor).toBe('policy');
      expect(audit.subject).toEqual({ objectType: 'lead', recordId: 'lead-1' });
      expect(audit.payloadType).toBe('mandate.v1.PolicyDecision');
      expect(PolicyDecision.decode(audit.payload).decisionId).toBe(decision.decisionId);
      expect(audit.attributes).toMatchObject({
        verdict: Verdict[decision.verdict],
        bundleVersion: '1.0.0',
        bundleHash: decision.explanation?.bundleHash,
        matrixVersion: 'matrix-1',
      });
    });

    it('records an unknown action with an empty action type', async () => {
      const { decider, decisions } = await setup();
      const { decision } = await decider.decideAndRecord(
        proposalOf('p-1', { action: { kind: undefined } }),
      );
      expect(decision.verdict).toBe(Verdict.VERDICT_DENY);
      expect((await decisions.get(ACME, 'p-1'))?.actionType).toBe('');
    });

    it('answers a redelivered proposal with recorded:false and writes nothing more', async () => {
      const { decider, decisions, onBreakerTrip } = await setup();
      const p = proposalOf('p-1');
      const first = await decider.decideAndRecord(p);
      const before = await decisions.get(ACME, 'p-1');
      const again = await decider.decideAndRecord(p);
      expect(first.recorded).toBe(true);
      expect(again.recorded).toBe(false);
      expect(again.decision.decisionId).toBe(first.decision.decisionId);
      expect(again.divergence).toBeUndefined();
      const after = await decisions.get(ACME, 'p-1');
      expect(after?.version).toBe(before?.version);
      expect(after).toEqual(before);
      expect(await decisions.count(ACME)).toBe(1);
      expect((await outboxOf(decisions)).all).toHaveLength(2);
      expect(onBreakerTrip).not.toHaveBeenCalled();
    });

    it('keeps the same proposal id of two tenants apart', async () => {
      const { decider, decisions } = await setup();
      await decider.decideAndRecord(proposalOf('p-1'));
      const other = await decider.decideAndRecord(proposalOf('p-1', { tenantId: 'globex' }));
      expect(other.recorded).toBe(true);
      expect(await decisions.get(tenantId('globex'), 'p-1')).not.toBeNull();
    });

    it.each([
      ['an invalid tenant id', { tenantId: 'Not A Tenant' }],
      ['an empty tenant id', { tenantId: '' }],
      ['a missing proposal id', { proposalId: '' }],
    ])('throws MalformedProposalError for %s and records nothing', async (_name, overrides) => {
      const { decider, decisions, reader } = await setup();
      await expect(decider.decideAndRecord(proposalOf('p-1', overrides))).rejects.toBeInstanceOf(
        MalformedProposalError,
      );
      expect(reader.calls).toEqual([]);
      expect(await decisions.pendingOutbox({ limit: 10 })).toEqual([]);
    });
  });

  describe('shadow (candidate) bundle', () => {
    it('records a divergence, with both verdicts, in its store and audits it in the same write', async () => {
      const { decider, divergences, decisions, shadowRegistry, registry } = await setup({
        trust: trustAfter(40),
        shadowRows: STRICT_ROWS,
        shadowActive: true,
      });
      expect(shadowRegistry.active()?.identity.contentHash).not.toBe(
        registry.active()?.identity.contentHash,
      );
      const { decision, divergence } = await decider.decideAndRecord(proposalOf('p-1'));
      expect(decision.verdict).toBe(Verdict.VERDICT_AUTO);
      expect(divergence).toMatchObject({
        id: decision.decisionId,
        proposalId: 'p-1',
        agentId: AGENT,
        actionType: 'qualify_lead',
        activeBundle: '1.0.0',
        activeVerdict: 'VERDICT_AUTO',
        shadowBundle: '1.1.0-candidate',
        shadowVerdict: 'VERDICT_APPROVE_1',
        decidedAt: NOW,
      });
      expect(divergence?.activeReasons).toEqual(decision.explanation?.reasonCodes);
      expect(divergence?.shadowReasons).toContain('MATRIX');

      const stored = (await divergences.get(ACME, decision.decisionId)) as ShadowDivergenceDoc;
      expect(stored).toMatchObject({ ...divergence, version: 1 });

      const { byDoc, all } = await outboxOf(divergences);
      expect([...byDoc.keys()]).toEqual([decision.decisionId]);
      expect(all).toHaveLength(1);
      expect(all[0].topic).toBe(Topics.auditRecords.name);
      const audit = decodeAudit(all[0]);
      expect(audit.kind).toBe(AuditKind.AUDIT_KIND_SHADOW_DIVERGENCE);
      expect(audit.attributes).toEqual({
        activeBundle: '1.0.0',
        activeVerdict: 'VERDICT_AUTO',
        shadowBundle: '1.1.0-candidate',
        shadowVerdict: 'VERDICT_APPROVE_1',
      });
      expect(audit.summary).toContain('1.1.0-candidate');
      // The candidate's opinion never reaches the decision topic.
      const events = (await outboxOf(decisions)).all.filter(
        (e) => e.topic === Topics.policyDecisions.name,
      );
      expect(events).toHaveLength(1);
      expect(decodeDecision(events[0]).verdict).toBe(Verdict.VERDICT_AUTO);
    });

    it('evaluates and records nothing while no candidate is active', async () => {
      const { decider, divergences, shadowEngine } = await setup({
        trust: trustAfter(40),
        shadowActive: false,
      });
      const spy = jest.spyOn(shadowEngine, 'decide');
      const { divergence, recorded } = await decider.decideAndRecord(proposalOf('p-1'));
      expect(recorded).toBe(true);
      expect(divergence).toBeUndefined();
      expect(spy).not.toHaveBeenCalled();
      expect(await divergences.count(ACME)).toBe(0);
      expect(await divergences.pendingOutbox({ limit: 10 })).toEqual([]);
    });

    it('starts comparing as soon as the candidate becomes active', async () => {
      const { decider, divergences, setShadowActive } = await setup({ trust: trustAfter(40) });
      expect((await decider.decideAndRecord(proposalOf('p-1'))).divergence).toBeUndefined();
      setShadowActive(true);
      expect((await decider.decideAndRecord(proposalOf('p-2'))).divergence).toBeDefined();
      expect(await divergences.count(ACME)).toBe(1);
    });

    it('records no divergence when both bundles agree', async () => {
      const { decider, divergences, shadowEngine } = await setup({
        trust: trustAfter(0), // untrusted: APPROVE_1 in both matrices
        shadowActive: true,
      });
      const spy = jest.spyOn(shadowEngine, 'decide');
      const { decision, divergence } = await decider.decideAndRecord(proposalOf('p-1'));
      expect(spy).toHaveBeenCalledTimes(1);
      expect(decision.verdict).toBe(Verdict.VERDICT_APPROVE_1);
      expect(divergence).toBeUndefined();
      expect(await divergences.count(ACME)).toBe(0);
      expect(await divergences.pendingOutbox({ limit: 10 })).toEqual([]);
    });

    it('does not run the candidate again for a redelivered proposal', async () => {
      const { decider, divergences, shadowEngine } = await setup({ shadowActive: true });
      await decider.decideAndRecord(proposalOf('p-1'));
      const spy = jest.spyOn(shadowEngine, 'decide');
      const again = await decider.decideAndRecord(proposalOf('p-1'));
      expect(again.recorded).toBe(false);
      expect(spy).not.toHaveBeenCalled();
      expect((await outboxOf(divergences)).all).toHaveLength(1);
    });

    it('never signs a candidate decision, while the active decision keeps its token', async () => {
      const { decider, shadowEngine, verifier } = await setup({
        trust: trustAfter(40),
        shadowRows: NOTICE_ROWS,
        shadowActive: true,
      });
      const p = proposalOf('p-1');
      const { decision, divergence } = await decider.decideAndRecord(p);
      expect(decision.verdict).toBe(Verdict.VERDICT_AUTO);
      expect(verifier.verify(decision.token, p)).toEqual({ ok: true });
      expect(divergence?.shadowVerdict).toBe('VERDICT_AUTO_WITH_NOTICE');

      const facts: FactsResult = {
        facts: {
          objectType: 'lead',
          recordId: 'lead-1',
          tenantId: 'acme',
          attributes: { industry: 'logistics', status: 'New', customerTier: 'smb' },
        },
      };
      const candidate = await shadowEngine.decide(p, facts, NOW);
      // Autonomous, so the active engine would have signed it: the shadow must not.
      expect(candidate.verdict).toBe(Verdict.VERDICT_AUTO_WITH_NOTICE);
      expect(candidate.token).toBeUndefined();
      expect(candidate.explanation?.bundleVersion).toBe('1.1.0-candidate');
    });
  });

  describe('action-rate breaker', () => {
    const config: CircuitBreakerConfig = {
      ...DEFAULT_CIRCUIT_BREAKER_CONFIG,
      actionRate: { windowMs: 60_000, maxProposals: 2, demoteTo: Verdict.VERDICT_APPROVE_1 },
    };

    it('trips once when the agent exceeds its pace, and demotes its next decisions', async () => {
      const { decider, onBreakerTrip, trips, breakers } = await setup({
        trust: trustAfter(40),
        breakerConfig: config,
      });
      for (const id of ['p-1', 'p-2']) {
        const { decision } = await decider.decideAndRecord(proposalOf(id));
        expect(decision.verdict).toBe(Verdict.VERDICT_AUTO);
      }
      expect(onBreakerTrip).not.toHaveBeenCalled();

      // A redelivery is not a new proposal: it does not count.
      await decider.decideAndRecord(proposalOf('p-1'));
      expect(onBreakerTrip).not.toHaveBeenCalled();
      expect(breakers.state('acme', AGENT)).toEqual([]);

      await decider.decideAndRecord(proposalOf('p-3'));
      expect(onBreakerTrip).toHaveBeenCalledTimes(1);
      expect(trips[0]).toMatchObject({
        kind: 'CIRCUIT_BREAKER_TRIPPED',
        tenantId: 'acme',
        actor: 'policy',
        attributes: expect.objectContaining({
          agent_id: AGENT,
          breaker: 'action_rate',
          demote_to: expect.stringContaining('APPROVE_1'),
        }),
      });

      const next = await decider.decideAndRecord(proposalOf('p-4'));
      expect([
        Verdict.VERDICT_APPROVE_1,
        Verdict.VERDICT_APPROVE_2,
        Verdict.VERDICT_DENY,
      ]).toContain(next.decision.verdict);
      expect(next.decision.token).toBeUndefined();
      expect(next.decision.explanation?.reasonCodes).toContain('BREAKER_ACTION_RATE');
      // Still open, and not tripped (or broadcast) a second time.
      await decider.decideAndRecord(proposalOf('p-5'));
      expect(onBreakerTrip).toHaveBeenCalledTimes(1);
    });

    it('counts each agent on its own', async () => {
      const { decider, onBreakerTrip } = await setup({ breakerConfig: config });
      await decider.decideAndRecord(proposalOf('p-1'));
      await decider.decideAndRecord(proposalOf('p-2'));
      await decider.decideAndRecord(proposalOf('p-3', { agentId: 'service-triage' }));
      expect(onBreakerTrip).not.toHaveBeenCalled();
    });
  });
});

describe('PolicyDecider.preview', () => {
  it('decides on the CRM facts without recording anything', async () => {
    const { decider, reader, decisions, divergences, onBreakerTrip } = await setup({
      shadowActive: true,
      breakerConfig: {
        ...DEFAULT_CIRCUIT_BREAKER_CONFIG,
        actionRate: { windowMs: 60_000, maxProposals: 1, demoteTo: Verdict.VERDICT_APPROVE_1 },
      },
    });
    reader.fields = { industry: 'finance', status: 'New' };
    for (const id of ['p-1', 'p-2', 'p-3']) {
      const d = await decider.preview(proposalOf(id));
      expect(d.verdict).toBe(Verdict.VERDICT_APPROVE_1);
    }
    expect(reader.calls).toHaveLength(3);
    expect(await decisions.count(ACME)).toBe(0);
    expect(await divergences.count(ACME)).toBe(0);
    expect(onBreakerTrip).not.toHaveBeenCalled();
  });
});
