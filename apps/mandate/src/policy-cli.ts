import { defaultBundleDir } from './bundle-dir';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ActionProposal, PolicyDecision } from '@mandate/contracts';
import {
  DecisionTokenIssuer,
  generateSigningKeyPair,
  parsePrivateKey,
} from '@mandate/decision-token';
import {
  assessTrust,
  BundleRegistry,
  CircuitBreakers,
  KillSwitchBoard,
  loadBundleDirectory,
  newTrustState,
  PolicyEngine,
  runPolicyTestCases,
  readFacts,
} from '@mandate/policy-domain';
import { parse as parseYaml } from 'yaml';

export const DEFAULT_BUNDLE = defaultBundleDir();

/**
 * `mandate policy test DIR`: runs a bundle's test cases (DIR/tests/*.yaml|json) and fails on any
 * mismatch, so policy authors test a change as they would code. Ends with "N passed, M failed".
 */
export async function policyTest(
  dir: string | undefined,
  out: (s: string) => void,
): Promise<number> {
  const bundle = await loadBundleDirectory(path.resolve(dir ?? DEFAULT_BUNDLE));
  if (bundle.problems.length) {
    bundle.problems.forEach((p) => out(`bundle problem: ${p}`));
    return 1;
  }
  const report = runPolicyTestCases(bundle);
  report.bundleErrors.forEach((e) => out(`bundle error: ${e}`));
  for (const r of report.results) {
    out(`${r.passed ? 'ok  ' : 'FAIL'}  ${r.file}: ${r.name}`);
    if (!r.passed) r.diff.forEach((d) => out(`        ${d}`));
  }
  out(`${report.passed} passed, ${report.failed} failed`);
  return report.bundleErrors.length || report.failed || report.results.length === 0 ? 1 : 0;
}

/**
 * `mandate policy eval --proposal FILE [--facts FILE] [--bundle DIR] [--at ISO]`: the decision the
 * engine makes for a proposal (ActionProposal JSON) and the record's facts, as JSON. Trust is that
 * of an agent with no history (the lowest band), since eval has no trust store.
 */
export async function policyEval(args: string[], out: (s: string) => void): Promise<number> {
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const proposalFile = flag('--proposal');
  if (!proposalFile)
    throw new Error(
      'usage: mandate policy eval --proposal FILE [--facts FILE] [--bundle DIR] [--at ISO-TIME]',
    );
  const proposal = ActionProposal.fromJSON(await readStructured(proposalFile));
  const factsFile = flag('--facts');
  const attributes = factsFile
    ? ((await readStructured(factsFile)) as Record<string, string | number | boolean>)
    : undefined;
  const now = flag('--at') ? new Date(flag('--at')!) : new Date();
  if (Number.isNaN(now.getTime())) throw new Error('--at must be an ISO-8601 time');

  const registry = new BundleRegistry();
  const offered = registry.offer(
    await loadBundleDirectory(path.resolve(flag('--bundle') ?? DEFAULT_BUNDLE)),
    now,
  );
  if (!offered.ok) throw new Error(`bundle refused:\n${offered.errors.join('\n')}`);
  const keys = generateSigningKeyPair();
  const engine = new PolicyEngine({
    registry,
    trust: {
      get: async (_t, agent, actionType) => assessTrust(newTrustState(agent, actionType, now), now),
    },
    killSwitches: new KillSwitchBoard(),
    breakers: new CircuitBreakers(undefined, undefined, () => now),
    issuer: new DecisionTokenIssuer(
      { keyId: 'eval', privateKey: parsePrivateKey(keys.privateKey) },
      60_000,
      () => now,
    ),
    maxBundleAgeMs: Number.MAX_SAFE_INTEGER,
  });
  // The facts file stands in for the CRM: the same read path (and fail-closed rules) as the service.
  const facts = await readFacts(
    {
      read: async () => {
        if (!attributes) throw new Error('no --facts file given');
        return attributes;
      },
    },
    proposal,
  );
  const decision = await engine.decide(proposal, facts, now);
  out(JSON.stringify(PolicyDecision.toJSON(decision), null, 2));
  return 0;
}

async function readStructured(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  return /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
}
