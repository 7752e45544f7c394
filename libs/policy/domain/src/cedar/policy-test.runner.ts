import { ActionProposal } from '@mandate/contracts';
import type { DecisionInput, RecordFacts } from '../engine/decision-input';
import { CedarEvaluator, type CedarOutcome } from './cedar.evaluator';
import type { PolicyBundle } from './policy-bundle.model';
import type { PolicyTestCase } from './policy-test-case';

export interface PolicyTestResult {
  name: string;
  file?: string;
  passed: boolean;
  /** One line per mismatch, e.g. "cedar: expected deny, got allow"; empty when passed. */
  diff: string[];
  outcome: CedarOutcome;
}

export interface PolicyTestReport {
  /** Why the bundle could not be evaluated at all (then `results` is empty and the run fails). */
  bundleErrors: string[];
  passed: number;
  failed: number;
  results: PolicyTestResult[];
}

/**
 * Runs policy test cases through the Cedar layer of `bundle` (validated first). A case passes
 * when the decision matches, the expected reason is among the reason codes, the obligations are
 * exactly the expected set (when given) and every expected policy id matched (when given).
 */
export function runPolicyTestCases(
  bundle: PolicyBundle,
  cases: readonly PolicyTestCase[] = bundle.tests,
): PolicyTestReport {
  const built = CedarEvaluator.fromBundle(bundle);
  if (!built.ok) return { bundleErrors: built.errors, passed: 0, failed: 0, results: [] };
  const results = cases.map((c) => runCase(built.evaluator, bundle, c));
  const passed = results.filter((r) => r.passed).length;
  return { bundleErrors: [], passed, failed: results.length - passed, results };
}

export function toDecisionInput(bundle: PolicyBundle, testCase: PolicyTestCase): DecisionInput {
  let proposal: ActionProposal | undefined;
  try {
    proposal = ActionProposal.fromJSON(testCase.proposal);
  } catch {
    proposal = undefined; // the evaluator denies MALFORMED_PROPOSAL
  }
  const agentId = testCase.agent ?? proposal?.agentId;
  const f = testCase.facts;
  const facts: RecordFacts | undefined = f
    ? {
        objectType: f.objectType ?? proposal?.target?.objectType ?? '',
        recordId: f.recordId ?? proposal?.target?.recordId ?? '',
        tenantId: f.tenantId ?? proposal?.tenantId ?? '',
        attributes: { ...f.attributes },
      }
    : undefined;
  return {
    proposal: proposal as ActionProposal,
    facts,
    agent: bundle.agents.find((a) => a.id === agentId),
    now: new Date(testCase.now),
    tenantTimeZone: testCase.tenantTimeZone,
  };
}

function runCase(
  evaluator: CedarEvaluator,
  bundle: PolicyBundle,
  testCase: PolicyTestCase,
): PolicyTestResult {
  const outcome = evaluator.evaluate(toDecisionInput(bundle, testCase));
  const expect = testCase.expect;
  const diff: string[] = [];
  if (outcome.decision !== expect.cedar)
    diff.push(
      `cedar: expected ${expect.cedar}, got ${outcome.decision} ` +
        `(reasons [${outcome.reasonCodes.join(', ')}]${outcome.errors.length ? `; ${outcome.errors.join('; ')}` : ''})`,
    );
  if (expect.reason !== undefined && !outcome.reasonCodes.includes(expect.reason))
    diff.push(`reason: expected ${expect.reason}, got [${outcome.reasonCodes.join(', ')}]`);
  if (expect.obligations !== undefined) {
    const want = [...new Set(expect.obligations)].sort();
    const got = [...outcome.obligations].sort();
    if (want.join('\n') !== got.join('\n'))
      diff.push(`obligations: expected [${want.join(', ')}], got [${got.join(', ')}]`);
  }
  const matchedIds = outcome.matched.map((m) => m.id);
  for (const id of expect.matched ?? [])
    if (!matchedIds.includes(id))
      diff.push(`matched: expected policy ${id}, got [${matchedIds.join(', ')}]`);
  return { name: testCase.name, file: testCase.file, passed: diff.length === 0, diff, outcome };
}
