import { loadBundleDirectory } from './bundle-directory.loader';
import { parseBundle } from './bundle.parser';
import { DEFAULT_BUNDLE_DIR, minimalBundleFiles } from './cedar-test.fixtures';
import type { PolicyBundle } from './policy-bundle.model';
import { parsePolicyTestFile, type PolicyTestCase } from './policy-test-case';
import { runPolicyTestCases } from './policy-test.runner';

let bundle: PolicyBundle;
beforeAll(async () => {
  bundle = await loadBundleDirectory(DEFAULT_BUNDLE_DIR);
});

describe('the default bundle’s policy tests (libs/policy/bundles/default/tests)', () => {
  it('all pass', () => {
    expect(bundle.problems).toEqual([]);
    const report = runPolicyTestCases(bundle, bundle.tests);
    const failures = report.results
      .filter((r) => !r.passed)
      .map((r) => `${r.file}: ${r.name}: ${r.diff.join('; ')}`);
    expect(failures).toEqual([]);
    expect(report.bundleErrors).toEqual([]);
    expect(report.passed).toBe(bundle.tests.length);
    expect(report.passed).toBeGreaterThanOrEqual(40);
  });

  it('match every policy of the bundle at least once, and deny with every forbid reason', () => {
    const report = runPolicyTestCases(bundle, bundle.tests);
    const matched = new Set(report.results.flatMap((r) => r.outcome.matched.map((m) => m.id)));
    expect(bundle.policies.map((p) => p.id).filter((id) => !matched.has(id))).toEqual([]);
    const reasons = new Set(report.results.flatMap((r) => r.outcome.reasonCodes));
    for (const code of [
      'CROSS_TENANT',
      'ACTION_NOT_IN_PURPOSE',
      'PURPOSE_LIMIT',
      'NO_DELETES',
      'DISCOUNT_OVER_CEILING',
      'INVALID_DISCOUNT',
      'NO_CONSENT',
      'QUIET_HOURS',
      'FACTS_UNAVAILABLE',
      'UNKNOWN_AGENT',
      'UNKNOWN_ACTION',
      'UNKNOWN_RESOURCE_TYPE',
      'ACTION_NOT_APPLICABLE',
      'MALFORMED_PROPOSAL',
      'INVALID_CLOCK',
    ])
      expect(reasons).toContain(code);
    const allowed = report.results.filter((r) => r.outcome.decision === 'allow');
    expect(allowed.length).toBeGreaterThan(10);
    expect(allowed.some((r) => r.outcome.obligations.includes('human_review'))).toBe(true);
  });
});

describe('runPolicyTestCases', () => {
  const base = (): PolicyTestCase => ({
    name: 'discount within ceiling',
    now: '2025-01-15T10:00:00Z',
    proposal: {
      proposalId: 'p',
      tenantId: 'acme',
      agentId: 'deal-desk',
      idempotencyKey: 'k',
      target: { objectType: 'opportunity', recordId: 'o-1' },
      action: { applyDiscount: { discountPercent: 10 } },
    },
    facts: { attributes: { industry: 'retail', amountMinor: 500000 } },
    expect: { cedar: 'allow', obligations: [] },
  });

  it('reports each mismatch as a diff line', () => {
    const wrong: PolicyTestCase = {
      ...base(),
      name: 'wrong on purpose',
      expect: {
        cedar: 'deny',
        reason: 'NO_CONSENT',
        obligations: ['human_review'],
        matched: ['consent.email'],
      },
    };
    const report = runPolicyTestCases(bundle, [base(), wrong]);
    expect(report.passed).toBe(1);
    expect(report.failed).toBe(1);
    expect(report.results[1]).toMatchObject({ name: 'wrong on purpose', passed: false });
    expect(report.results[1].diff).toEqual([
      'cedar: expected deny, got allow (reasons [])',
      'reason: expected NO_CONSENT, got []',
      'obligations: expected [human_review], got []',
      'matched: expected policy consent.email, got [permit.own-tenant]',
    ]);
  });

  it('uses the case’s agent id, facts defaults and time zone', () => {
    const asOutreach: PolicyTestCase = {
      ...base(),
      agent: 'outreach',
      expect: { cedar: 'deny', reason: 'UNKNOWN_AGENT' },
    };
    const night: PolicyTestCase = {
      ...base(),
      now: '2025-01-15T11:00:00Z',
      tenantTimeZone: 'Asia/Tokyo',
      proposal: {
        ...(base().proposal as object),
        agentId: 'outreach',
        target: { objectType: 'lead', recordId: 'l-1' },
        action: { sendEmail: { toContactId: 'l-1', subject: 's' } },
      },
      facts: { attributes: { industry: 'retail', emailConsent: true, optedOut: false } },
      expect: { cedar: 'deny', reason: 'QUIET_HOURS' }, // 20:00 in Tokyo
    };
    const report = runPolicyTestCases(bundle, [asOutreach, night]);
    expect(report.results.map((r) => r.diff)).toEqual([[], []]);
  });

  it('reports an invalid bundle instead of running its cases', () => {
    const broken = parseBundle(
      minimalBundleFiles({ 'policies/main.cedar': 'permit (principal, action, resource);' }),
    );
    const report = runPolicyTestCases(broken, [base()]);
    expect(report).toMatchObject({ passed: 0, failed: 0, results: [] });
    expect(report.bundleErrors).toEqual([
      'policies/main.cedar: policy policies/main.cedar#0: has no @id',
    ]);
  });
});

describe('parsePolicyTestFile', () => {
  it('reads YAML (with anchors and merge keys) and JSON, one case, a list or { cases }', () => {
    const yaml = `
cases:
  - name: a
    now: "2025-01-15T10:00:00Z"
    proposal: &p { tenantId: acme }
    facts: null
    expect: { cedar: deny, reason: FACTS_UNAVAILABLE }
  - name: b
    now: "2025-01-15T10:00:00Z"
    proposal: { <<: *p, agentId: x }
    expect: { cedar: deny }
`;
    const parsed = parsePolicyTestFile('tests/t.yaml', yaml);
    expect(parsed.problems).toEqual([]);
    expect(parsed.cases.map((c) => [c.name, c.proposal, c.file])).toEqual([
      ['a', { tenantId: 'acme' }, 'tests/t.yaml'],
      ['b', { tenantId: 'acme', agentId: 'x' }, 'tests/t.yaml'],
    ]);
    const json = parsePolicyTestFile(
      'tests/t.json',
      JSON.stringify({
        name: 'c',
        now: '2025-01-15T10:00:00Z',
        proposal: {},
        expect: { cedar: 'allow' },
      }),
    );
    expect(json.cases).toHaveLength(1);
    expect(parsePolicyTestFile('tests/t.json', '{').problems[0]).toMatch(
      /^tests\/t\.json: cannot parse/,
    );
    expect(
      parsePolicyTestFile(
        'tests/t.yaml',
        '- name: x\n  now: yesterday\n  proposal: {}\n  expect: { cedar: allow }',
      ).problems,
    ).toEqual(['tests/t.yaml: case x: missing or invalid now (ISO 8601)']);
  });
});
