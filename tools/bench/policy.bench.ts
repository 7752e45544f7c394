/**
 * `npm run bench:policy`: full in-process policy decisions vs bare Cedar `statefulIsAuthorized`
 * on the same pre-parsed policies and request, then gRPC `Decide` on loopback. Prints
 * decisions/s, p50 and p99 per path and the ratio. One run, this machine; no assertions.
 */
import 'reflect-metadata';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { credentials } from '@grpc/grpc-js';
import { statefulIsAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import { ActionProposal, PolicyServiceClient, type DecideResponse } from '@mandate/contracts';
import {
  DecisionTokenIssuer,
  generateSigningKeyPair,
  parsePrivateKey,
} from '@mandate/decision-token';
import {
  BundleRegistry,
  CircuitBreakers,
  DECISIONS,
  PolicyDecider,
  SHADOW_DIVERGENCES,
  KillSwitchBoard,
  loadBundleDirectory,
  mapToCedarRequest,
  PolicyEngine,
  TRUST_STATES,
  TrustRepository,
  type DecisionInput,
  type FactsResult,
} from '@mandate/policy-domain';
import { registerPolicyGrpc } from '@mandate/policy-service';
import { InMemoryDocumentStore } from '@mandate/storage';
import { createLogger, GrpcServerHost, ProcessMetrics } from '@mandate/platform';

const N = Number(process.env.BENCH_N ?? 5000);
const WARMUP = 500;
const NOW = new Date('2025-01-15T10:00:00Z');

const proposal = ActionProposal.fromPartial({
  proposalId: 'p-1',
  tenantId: 'acme',
  correlationId: 'c-1',
  agentId: 'lead-qualification',
  idempotencyKey: 'k-1',
  confidence: 0.9,
  target: { objectType: 'lead', recordId: 'lead-1' },
  action: { kind: { $case: 'qualifyLead', value: { score: 90, reason: 'fit' } } },
});
const facts: FactsResult = {
  facts: {
    objectType: 'lead',
    recordId: 'lead-1',
    tenantId: 'acme',
    attributes: { industry: 'logistics', status: 'New', customerTier: 'smb' },
  },
};

function stats(name: string, samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const total = samples.reduce((a, b) => a + b, 0);
  const row = {
    name,
    n: samples.length,
    perSecond: Math.round((samples.length / total) * 1e6),
    p50us: q(0.5),
    p99us: q(0.99),
  };
  process.stdout.write(
    `${name.padEnd(34)} ${String(row.perSecond).padStart(8)}/s   p50 ${row.p50us.toFixed(1).padStart(8)} µs   p99 ${row.p99us.toFixed(1).padStart(8)} µs\n`,
  );
  return row;
}

async function time(fn: () => unknown | Promise<unknown>, n: number): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push((performance.now() - t) * 1000);
  }
  return out;
}

async function main() {
  const registry = new BundleRegistry();
  const offered = registry.offer(
    await loadBundleDirectory(path.resolve(__dirname, '../../../../libs/policy/bundles/default')),
    NOW,
  );
  if (!offered.ok) throw new Error(offered.errors.join('\n'));
  const active = registry.active()!;
  const keys = generateSigningKeyPair();
  const issuer = new DecisionTokenIssuer(
    { keyId: 'bench', privateKey: parsePrivateKey(keys.privateKey) },
    60_000,
    () => NOW,
  );
  const trust = new TrustRepository(new InMemoryDocumentStore(TRUST_STATES));
  const engine = new PolicyEngine({
    registry,
    trust,
    killSwitches: new KillSwitchBoard(),
    breakers: new CircuitBreakers(undefined, undefined, () => NOW),
    issuer,
    maxBundleAgeMs: Number.MAX_SAFE_INTEGER,
  });

  const input: DecisionInput = {
    proposal,
    facts: facts.facts,
    agent: active.bundle.agents.find((a) => a.id === proposal.agentId),
    now: NOW,
  };
  const mapped = mapToCedarRequest(input, active.evaluator.schema);
  if (!mapped.ok) throw new Error(mapped.detail);
  const { principal, action, resource, context, entities } = mapped.request;
  const call = {
    principal,
    action,
    resource,
    context,
    entities,
    preparsedSchemaName: active.evaluator.schemaName,
    preparsedPolicySetId: active.evaluator.policySetId,
    validateRequest: true,
  };

  process.stdout.write(
    `policy bench: ${N} sequential calls each after ${WARMUP} warm-up, default bundle (${active.bundle.policies.length} policies), Node ${process.version}\n`,
  );
  const bare = stats(
    'bare Cedar statefulIsAuthorized',
    await time(() => statefulIsAuthorized(call), N),
  );
  const cedar = stats(
    'Cedar via CedarEvaluator',
    await time(() => active.evaluator.evaluate(input), N),
  );
  const full = stats(
    'full PolicyEngine.decide',
    await time(() => engine.decide(proposal, facts, NOW), N),
  );

  // gRPC Decide on loopback: the service's handler on the same engine, facts from an in-memory
  // reader (the service reads them from the connector over gRPC: one more loopback call).
  const host = new GrpcServerHost(
    createLogger('bench', 'silent'),
    new ProcessMetrics(false).forService('bench'),
  );
  const decider = new PolicyDecider({
    engine,
    reader: { read: async () => facts.facts?.attributes },
    decisions: new InMemoryDocumentStore(DECISIONS),
    divergences: new InMemoryDocumentStore(SHADOW_DIVERGENCES),
    breakers: new CircuitBreakers(undefined, undefined, () => NOW),
    clock: () => NOW,
  });
  registerPolicyGrpc(host, decider);
  const port = await host.start('127.0.0.1', 0);
  const client = new PolicyServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const decide = () =>
    new Promise<DecideResponse>((resolve, reject) =>
      client.decide({ proposal }, (err: Error | null, res?: DecideResponse) =>
        err ? reject(err) : resolve(res!),
      ),
    );
  const grpc = stats('gRPC Decide on loopback', await time(decide, Math.min(N, 2000)));
  client.close();
  await host.stop();

  process.stdout.write(
    `\nfull decision p99 / bare Cedar p99 = ${(full.p99us / bare.p99us).toFixed(2)}x   (target ≤ 2x)\n`,
  );
  process.stdout.write(
    `full decision p99 = ${full.p99us.toFixed(1)} µs (target ≤ 100 µs); gRPC Decide p99 = ${(grpc.p99us / 1000).toFixed(3)} ms (target ≤ 2 ms)\n`,
  );
  process.stdout.write(
    `Cedar wrapper overhead (mapping + diagnostics) p50 = ${(cedar.p50us - bare.p50us).toFixed(1)} µs\n`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
