/**
 * `npm run bench:policy`: full in-process policy decisions vs bare Cedar `statefulIsAuthorized`
 * on the same pre-parsed policies and request, then gRPC `Decide` on loopback. Prints
 * decisions/s, p50 and p99 per path and the ratio. One run, this machine; no assertions.
 */
import 'reflect-metadata';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { statefulIsAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import { ActionProposal, ConnectorServiceService } from '@mandate/contracts';
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
import { stats, time } from './bench-stats';

const N = Number(process.env.BENCH_N ?? 5000);
const WARMUP = 500;
const NOW = new Date('2025-01-15T10:00:00Z');
const ROOT = path.resolve(__dirname, '../../../..');

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

async function main() {
  const registry = new BundleRegistry();
  const offered = registry.offer(
    await loadBundleDirectory(path.join(ROOT, 'libs/policy/bundles/default')),
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
    await time(() => statefulIsAuthorized(call), N, WARMUP),
  );
  const cedar = stats(
    'Cedar via CedarEvaluator',
    await time(() => active.evaluator.evaluate(input), N, WARMUP),
  );
  const full = stats(
    'full PolicyEngine.decide',
    await time(() => engine.decide(proposal, facts, NOW), N, WARMUP),
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
  host.addUnaryService(ConnectorServiceService, {
    getCapabilities: async () => ({ connector: 'bench', objects: [], supportedActions: [] }),
    getRecord: async () => ({ found: false, fields: undefined }),
    findRecords: async () => ({ records: [], truncated: false }),
  });
  const port = await host.start('127.0.0.1', 0);
  const client = await runClient(port, Math.min(N, 2000));
  await host.stop();
  const grpcP99us = Number(/GRPC_DECIDE_P99_US=([\d.]+)/.exec(client)?.[1]);

  process.stdout.write(
    `\nfull decision p99 / bare Cedar p99 = ${(full.p99us / bare.p99us).toFixed(2)}x   (target ≤ 2x)\n`,
  );
  process.stdout.write(
    `full decision p99 = ${full.p99us.toFixed(1)} µs (target ≤ 100 µs); gRPC Decide p99 = ${(grpcP99us / 1000).toFixed(3)} ms (target ≤ 2 ms)\n`,
  );
  process.stdout.write(
    `Cedar wrapper overhead (mapping + diagnostics) p50 = ${(cedar.p50us - bare.p50us).toFixed(1)} µs\n`,
  );
}

/** Runs the gRPC client in its own process; its rows are printed as they come. */
function runClient(port: number, n: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        path.join(ROOT, 'tools/run.js'),
        'tools/bench/grpc-decide.client.js',
        String(port),
        String(n),
      ],
      {
        env: { ...process.env, BENCH_PROPOSAL: JSON.stringify(ActionProposal.toJSON(proposal)) },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(chunk.toString().replace(/^GRPC_DECIDE_P99_US=.*\n/m, ''));
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`gRPC client exited with ${code}`)),
    );
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
