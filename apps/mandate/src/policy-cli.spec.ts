import { mkdtemp, writeFile, cp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEFAULT_BUNDLE, policyEval, policyTest } from './policy-cli';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('mandate policy test', () => {
  it("passes the default bundle's own test cases and ends with a summary line", async () => {
    const lines: string[] = [];
    expect(await policyTest(path.resolve(ROOT, DEFAULT_BUNDLE), (s) => lines.push(s))).toBe(0);
    expect(lines[lines.length - 1]).toMatch(/^\d+ passed, 0 failed$/);
  });

  it('fails on a case whose expectation the policies do not meet', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bundle-'));
    await cp(path.resolve(ROOT, DEFAULT_BUNDLE), dir, { recursive: true });
    const file = path.join(dir, 'tests', 'tenancy.yaml');
    await writeFile(
      file,
      (await readFile(file, 'utf8')).replace(
        'expect: { cedar: deny, reason: CROSS_TENANT',
        'expect: { cedar: allow, reason: CROSS_TENANT',
      ),
    );
    const lines: string[] = [];
    expect(await policyTest(dir, (s) => lines.push(s))).toBe(1);
    expect(lines.join('\n')).toMatch(/FAIL .*another tenant/);
    expect(lines[lines.length - 1]).toMatch(/^\d+ passed, 1 failed$/);
  });
});

describe('mandate policy eval', () => {
  it('prints the decision with its reasons as JSON', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'eval-'));
    await writeFile(
      path.join(dir, 'p.json'),
      JSON.stringify({
        proposalId: 'p',
        tenantId: 'acme',
        agentId: 'deal-desk',
        idempotencyKey: 'k',
        confidence: 0.8,
        target: { objectType: 'opportunity', recordId: 'o1' },
        action: { applyDiscount: { discountPercent: 25, reason: 'x' } },
      }),
    );
    await writeFile(
      path.join(dir, 'f.json'),
      JSON.stringify({ amountMinor: 5_000_000, industry: 'software' }),
    );
    const out: string[] = [];
    const cwd = process.cwd();
    process.chdir(ROOT);
    try {
      await policyEval(
        [
          '--proposal',
          path.join(dir, 'p.json'),
          '--facts',
          path.join(dir, 'f.json'),
          '--at',
          '2025-01-15T10:00:00Z',
        ],
        (s) => out.push(s),
      );
    } finally {
      process.chdir(cwd);
    }
    const decision = JSON.parse(out.join('\n'));
    expect(decision.verdict).toBe('VERDICT_DENY');
    expect(decision.explanation.reasonCodes).toContain('DISCOUNT_OVER_CEILING');
  });
});

describe('mandate policy eval, bad input', () => {
  it('says how to call it when --proposal is missing', async () => {
    await expect(policyEval([], () => undefined)).rejects.toThrow(
      /usage: mandate policy eval --proposal FILE/,
    );
  });

  it('denies, with the reason, when no facts are given', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'eval-'));
    await writeFile(
      path.join(dir, 'p.json'),
      JSON.stringify({
        proposalId: 'p',
        tenantId: 'acme',
        agentId: 'lead-qualification',
        idempotencyKey: 'k',
        target: { objectType: 'lead', recordId: 'l1' },
        action: { qualifyLead: { score: 80, reason: 'x' } },
      }),
    );
    const out: string[] = [];
    const cwd = process.cwd();
    process.chdir(ROOT);
    try {
      await policyEval(['--proposal', path.join(dir, 'p.json')], (s) => out.push(s));
    } finally {
      process.chdir(cwd);
    }
    const decision = JSON.parse(out.join('\n'));
    expect(decision.verdict).toBe('VERDICT_DENY');
    expect(decision.explanation.reasonCodes).toEqual(['FACTS_UNAVAILABLE']);
    expect(decision.explanation.summary).toMatch(/no --facts file given/);
  });
});
