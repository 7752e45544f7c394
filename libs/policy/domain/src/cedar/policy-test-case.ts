import { parse as parseYaml } from 'yaml';
import type { FactValue } from '../engine/decision-input';

/** Facts as written in a test case; objectType, recordId and tenantId default to the proposal's. */
export interface PolicyTestFacts {
  objectType?: string;
  recordId?: string;
  tenantId?: string;
  attributes: Record<string, FactValue>;
}

/** What a test case expects from the Cedar layer. */
export interface PolicyTestExpectation {
  cedar: 'allow' | 'deny';
  /** A reason code that must be among the outcome's reason codes. */
  reason?: string;
  /** The exact set of obligations (order does not matter); omitted = not checked. */
  obligations?: string[];
  /** Policy ids that must be among the matched policies. */
  matched?: string[];
}

/**
 * One policy test case. `proposal` is the ts-proto JSON form of ActionProposal (the input of
 * `ActionProposal.fromJSON`); `facts: null` (or omitted) means the CRM could not be read.
 */
export interface PolicyTestCase {
  name: string;
  /** File the case came from (for reports). */
  file?: string;
  proposal: unknown;
  facts?: PolicyTestFacts | null;
  /** Agent id to look up in agents.json; default proposal.agentId. */
  agent?: string;
  /** ISO 8601 instant the decision is taken at. */
  now: string;
  tenantTimeZone?: string;
  expect: PolicyTestExpectation;
}

/**
 * Parses a test file: YAML (.yaml/.yml; anchors and `<<` merge keys allowed) or JSON holding one case, an array of cases, or
 * `{ cases: [...] }`. Malformed cases are reported as problems and left out.
 */
export function parsePolicyTestFile(
  file: string,
  text: string,
): { cases: PolicyTestCase[]; problems: string[] } {
  let doc: unknown;
  try {
    doc = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text, { merge: true });
  } catch (err) {
    return { cases: [], problems: [`${file}: cannot parse: ${errorMessage(err)}`] };
  }
  const list: unknown[] = Array.isArray(doc)
    ? doc
    : isObject(doc) && Array.isArray(doc['cases'])
      ? (doc['cases'] as unknown[])
      : [doc];
  const cases: PolicyTestCase[] = [];
  const problems: string[] = [];
  list.forEach((entry, i) => {
    const problem = checkCase(entry);
    const label = isObject(entry) && typeof entry['name'] === 'string' ? entry['name'] : `#${i}`;
    if (problem) problems.push(`${file}: case ${label}: ${problem}`);
    else cases.push({ ...(entry as unknown as PolicyTestCase), file });
  });
  return { cases, problems };
}

function checkCase(entry: unknown): string | undefined {
  if (!isObject(entry)) return 'not an object';
  if (typeof entry['name'] !== 'string' || !entry['name']) return 'missing name';
  if (!isObject(entry['proposal'])) return 'missing proposal';
  if (typeof entry['now'] !== 'string' || Number.isNaN(Date.parse(entry['now'])))
    return 'missing or invalid now (ISO 8601)';
  const facts = entry['facts'];
  if (facts !== undefined && facts !== null && !(isObject(facts) && isObject(facts['attributes'])))
    return 'facts must be null or { attributes: {...} }';
  const expect = entry['expect'];
  if (!isObject(expect) || (expect['cedar'] !== 'allow' && expect['cedar'] !== 'deny'))
    return "expect.cedar must be 'allow' or 'deny'";
  if (expect['reason'] !== undefined && typeof expect['reason'] !== 'string')
    return 'expect.reason must be a string';
  for (const key of ['obligations', 'matched']) {
    const v = expect[key];
    if (v !== undefined && !(Array.isArray(v) && v.every((s) => typeof s === 'string')))
      return `expect.${key} must be a list of strings`;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
