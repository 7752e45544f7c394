import { parseAutonomyMatrix } from '../autonomy';
import { parseRiskConfig } from '../risk';
import { createHash } from 'node:crypto';
import { Verdict } from '@mandate/contracts';
import { bundleContentHash } from './bundle-content-hash';
import { loadBundleDirectory, readBundleFiles } from './bundle-directory.loader';
import { parseBundle } from './bundle.parser';
import { BundleRegistry } from './bundle.registry';
import { validateBundle } from './bundle.validator';
import {
  DEAL_DESK,
  DEFAULT_BUNDLE_DIR,
  discount,
  input,
  minimalBundleFiles,
} from './cedar-test.fixtures';

let defaultFiles: Record<string, string>;
beforeAll(async () => {
  defaultFiles = await readBundleFiles(DEFAULT_BUNDLE_DIR);
});

const withFiles = (overrides: Record<string, string | undefined>) => {
  const files: Record<string, string> = { ...defaultFiles };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete files[k];
    else files[k] = v;
  }
  return parseBundle(files);
};

const errorsOf = (overrides: Record<string, string | undefined>) => {
  const result = validateBundle(withFiles(overrides));
  return result.ok ? [] : result.errors;
};

describe('default bundle', () => {
  it('loads from its directory and validates in strict mode', async () => {
    const bundle = await loadBundleDirectory(DEFAULT_BUNDLE_DIR);
    expect(bundle.problems).toEqual([]);
    expect(validateBundle(bundle)).toEqual({ ok: true, warnings: [] });
    expect(bundle.manifest.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(bundle.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The bundle carries the risk model and autonomy matrix it is versioned with.
    expect(parseRiskConfig(bundle.files['risk.json']).version).toBeTruthy();
    expect(parseAutonomyMatrix(bundle.files['matrix.json']).version).toBeTruthy();
    expect(bundle.tests.length).toBeGreaterThan(0);
  });

  it('carries the agent profiles of agents.json', () => {
    const bundle = parseBundle(defaultFiles);
    expect(bundle.agents).toEqual([
      {
        id: 'lead-qualification',
        purpose: 'lead-qualification',
        allowedFields: [
          'status',
          'score',
          'ownerId',
          'qualificationReason',
          'disqualificationCode',
        ],
        ceiling: Verdict.VERDICT_AUTO,
        tenants: ['*'],
      },
      DEAL_DESK,
      {
        id: 'service-triage',
        purpose: 'service',
        allowedFields: ['status', 'priority', 'resolutionCode'],
        ceiling: Verdict.VERDICT_AUTO_WITH_NOTICE,
        tenants: ['*'],
      },
      {
        id: 'outreach',
        purpose: 'outreach',
        allowedFields: [],
        ceiling: Verdict.VERDICT_APPROVE_1,
        tenants: ['*'],
      },
    ]);
  });

  it('has a unique @id on every policy and an @reason on every forbid', () => {
    const bundle = parseBundle(defaultFiles);
    const ids = bundle.policies.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of bundle.policies.filter((p) => p.effect === 'forbid'))
      expect(p.annotations['reason']).toMatch(/^[A-Z_]+$/);
  });
});

describe('content hash', () => {
  it('is the documented SHA-256 over (path, bytes) sorted by path', () => {
    const files = { 'b.txt': 'B', 'a.txt': 'Ä' };
    const h = createHash('sha256');
    for (const [path, text] of [
      ['a.txt', 'Ä'],
      ['b.txt', 'B'],
    ]) {
      const p = Buffer.from(path);
      const b = Buffer.from(text);
      const pl = Buffer.alloc(4);
      pl.writeUInt32BE(p.length);
      const bl = Buffer.alloc(8);
      bl.writeBigUInt64BE(BigInt(b.length));
      h.update(pl).update(p).update(bl).update(b);
    }
    expect(bundleContentHash(files)).toBe(`sha256:${h.digest('hex')}`);
  });

  it('does not depend on the order of the files or on where they come from', async () => {
    const reversed = Object.fromEntries(Object.entries(defaultFiles).reverse());
    const fromDir = await loadBundleDirectory(DEFAULT_BUNDLE_DIR);
    expect(parseBundle(reversed).contentHash).toBe(fromDir.contentHash);
    expect(parseBundle(defaultFiles).contentHash).toBe(parseBundle(defaultFiles).contentHash);
  });

  it('changes with one byte, a renamed file, or moved content', () => {
    const base = bundleContentHash({ 'a.cedar': 'xy', 'b.cedar': 'z' });
    expect(bundleContentHash({ 'a.cedar': 'xy', 'b.cedar': 'Z' })).not.toBe(base);
    expect(bundleContentHash({ 'a.cedar': 'xy', 'c.cedar': 'z' })).not.toBe(base);
    expect(bundleContentHash({ 'a.cedar': 'x', 'b.cedar': 'yz' })).not.toBe(base);
    expect(bundleContentHash({ 'a.cedar': 'xy', 'b.cedar': 'z', 'c.cedar': '' })).not.toBe(base);
  });

  it('covers every file of the bundle, tests included', () => {
    const bundle = parseBundle(defaultFiles);
    const edited = withFiles({ 'tests/extra.yaml': '[]' });
    expect(edited.contentHash).not.toBe(bundle.contentHash);
  });
});

describe('validateBundle refuses an invalid bundle with the messages', () => {
  it('a Cedar syntax error, located in its file', () => {
    const errors = errorsOf({
      'policies/99-bad.cedar': '@id("bad")\nforbid (principal, action, resourc);',
    });
    expect(errors.join('\n')).toMatch(/policies\/99-bad\.cedar: .*resourc.* at 2:\d+/);
  });

  it('a forbid without @reason', () => {
    const errors = errorsOf({
      'policies/99-bad.cedar':
        '@id("no-reason") forbid (principal, action, resource) when { false };',
    });
    expect(errors).toContain(
      'policies/99-bad.cedar: policy "no-reason": a forbid needs @reason("CODE")',
    );
  });

  it('a policy without @id, and a duplicate @id', () => {
    const errors = errorsOf({
      'policies/99-bad.cedar':
        'permit (principal, action, resource) when { false };\n' +
        '@id("tenant.isolation") @reason("X") forbid (principal, action, resource) when { false };',
    });
    expect(errors).toEqual(
      expect.arrayContaining([
        'policies/99-bad.cedar: policy policies/99-bad.cedar#0: has no @id',
        'policies/99-bad.cedar: policy "tenant.isolation": duplicate @id (first in policies/00-tenancy.cedar)',
      ]),
    );
  });

  it('a read of an optional attribute without `has` (strict schema validation)', () => {
    const errors = errorsOf({
      'policies/99-bad.cedar':
        '@id("unguarded") @reason("X") forbid (principal, action == Mandate::Action::"apply_discount", resource)\n' +
        'when { resource.amountMinor > 5 };',
    });
    expect(errors.join('\n')).toMatch(
      /policy "unguarded": .*optional attribute `amountMinor`.*(has amountMinor|presence)/,
    );
  });

  it('a policy that does not typecheck against the schema', () => {
    const errors = errorsOf({
      'policies/99-bad.cedar':
        '@id("typo") @reason("X") forbid (principal, action, resource) when { context.discountPercentage > 5 };',
    });
    expect(errors.some((e) => e.includes('policy "typo"'))).toBe(true);
  });

  it('an incomplete bundle.json, and an approver who is the author', () => {
    expect(errorsOf({ 'bundle.json': '{"name": "x", "version": "one"}' })).toEqual(
      expect.arrayContaining([
        'bundle.json: "author" must be a string',
        'bundle.json: "approver" must be a string',
        'bundle.json: "createdAt" must be a string',
        'bundle.json: version "one" is not semver-like (1.2.3)',
      ]),
    );
    const manifest = JSON.parse(defaultFiles['bundle.json']);
    expect(
      errorsOf({ 'bundle.json': JSON.stringify({ ...manifest, approver: manifest.author }) }),
    ).toEqual(['bundle.json: the approver must not be the author (four eyes)']);
    expect(errorsOf({ 'bundle.json': undefined })).toContain('bundle.json: missing');
  });

  it('missing schema, broken JSON files, unknown files, bad agents, bad test cases', () => {
    expect(errorsOf({ 'schema.cedarschema': undefined })).toContain('schema.cedarschema: missing');
    expect(errorsOf({ 'risk.json': '{' }).join('\n')).toMatch(/risk\.json: invalid JSON/);
    expect(errorsOf({ 'notes.txt': 'hi' })).toEqual(['notes.txt: unexpected file in a bundle']);
    expect(
      errorsOf({
        'agents.json':
          '{"agents":[{"id":"x","purpose":"p","allowedFields":[],"ceiling":"VERDICT_MAYBE","tenants":["*"]}]}',
      }),
    ).toEqual(['agents.json: agents[0]: missing or invalid ceiling']);
    expect(
      errorsOf({
        'tests/bad.yaml': '- name: no expectation\n  now: "2025-01-01T00:00:00Z"\n  proposal: {}\n',
      }),
    ).toEqual(["tests/bad.yaml: case no expectation: expect.cedar must be 'allow' or 'deny'"]);
  });

  it('an obligation on a forbid, and a malformed reason code', () => {
    const errors = errorsOf({
      'policies/99-bad.cedar':
        '@id("x") @reason("not upper") @obligation("human_review") forbid (principal, action, resource) when { false };',
    });
    expect(errors).toEqual([
      'policies/99-bad.cedar: policy "x": @reason "not upper" must be UPPER_SNAKE_CASE',
      'policies/99-bad.cedar: policy "x": @obligation is only meaningful on a permit',
    ]);
  });
});

describe('BundleRegistry', () => {
  const t0 = new Date('2025-01-15T09:00:00Z');
  const at = (ms: number) => new Date(t0.getTime() + ms);
  const input10 = (now: Date) =>
    input(discount(10), DEAL_DESK, { industry: 'manufacturing', amountMinor: 500000 }, { now });

  it('activates a valid bundle and serves it', () => {
    const registry = new BundleRegistry();
    const bundle = parseBundle(defaultFiles);
    const result = registry.offer(bundle, t0);
    expect(result).toEqual({
      ok: true,
      status: 'activated',
      bundle: { name: bundle.manifest.name, version: '1.0.0', contentHash: bundle.contentHash },
      warnings: [],
    });
    expect(registry.evaluate(input10(at(1000)), { maxAgeMs: 60_000 }).decision).toBe('allow');
  });

  it('refuses an invalid bundle with the validator messages; the last good one keeps serving', () => {
    const registry = new BundleRegistry();
    const good = parseBundle(defaultFiles);
    registry.offer(good, t0);
    // A broken "fix" that would lift the discount ceilings.
    const bad = withFiles({
      'bundle.json': JSON.stringify({
        ...JSON.parse(defaultFiles['bundle.json']),
        version: '1.0.1',
      }),
      'policies/40-discounts.cedar':
        '@id("discount.ceiling") forbid (principal, action, resource) when { resource.amountMinor > 1 };',
    });
    const result = registry.offer(bad, at(1000));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual(
      expect.arrayContaining([
        'policies/40-discounts.cedar: policy "discount.ceiling": a forbid needs @reason("CODE")',
      ]),
    );
    expect(result.errors.some((e) => /optional attribute `amountMinor`/.test(e))).toBe(true);
    expect(result.serving?.contentHash).toBe(good.contentHash);
    expect(registry.active()?.bundle).toBe(good);
    const over = input(
      discount(12),
      DEAL_DESK,
      { industry: 'manufacturing', amountMinor: 500000 },
      { now: at(2000) },
    );
    expect(registry.evaluate(over, { maxAgeMs: 60_000 })).toMatchObject({
      decision: 'deny',
      reasonCodes: ['DISCOUNT_OVER_CEILING'],
    });
  });

  it('treats the same content again as a confirmation, and refuses new content under a used version', () => {
    const registry = new BundleRegistry();
    registry.offer(parseBundle(defaultFiles), t0);
    expect(registry.offer(parseBundle(defaultFiles), at(5000))).toMatchObject({
      ok: true,
      status: 'unchanged',
    });
    expect(registry.age(at(6000))).toBe(1000);
    const sameVersion = withFiles({ 'README.md': 'changed without a version bump' });
    const result = registry.offer(sameVersion, at(7000));
    expect(result).toMatchObject({
      ok: false,
      serving: { contentHash: parseBundle(defaultFiles).contentHash },
    });
    if (!result.ok) expect(result.errors[0]).toMatch(/version 1\.0\.0 was accepted before/);
  });

  it('activates a newer valid bundle', () => {
    const registry = new BundleRegistry();
    registry.offer(parseBundle(defaultFiles), t0);
    const next = withFiles({
      'bundle.json': JSON.stringify({
        ...JSON.parse(defaultFiles['bundle.json']),
        version: '1.1.0',
      }),
    });
    expect(registry.offer(next, at(1000))).toMatchObject({
      ok: true,
      status: 'activated',
      bundle: { version: '1.1.0' },
    });
    expect(registry.active()?.identity.contentHash).toBe(next.contentHash);
  });

  it('denies NO_BUNDLE before any bundle, and STALE_BUNDLE once unconfirmed for too long', () => {
    const registry = new BundleRegistry();
    expect(registry.stale(t0, 60_000)).toBe(true);
    expect(registry.evaluate(input10(t0), { maxAgeMs: 60_000 })).toMatchObject({
      decision: 'deny',
      reasonCodes: ['NO_BUNDLE'],
    });
    registry.offer(parseBundle(defaultFiles), t0);
    expect(registry.stale(at(60_000), 60_000)).toBe(false);
    expect(registry.stale(at(60_001), 60_000)).toBe(true);
    expect(registry.evaluate(input10(at(60_001)), { maxAgeMs: 60_000 })).toMatchObject({
      decision: 'deny',
      reasonCodes: ['STALE_BUNDLE'],
    });
    registry.confirm(at(60_500));
    expect(registry.evaluate(input10(at(61_000)), { maxAgeMs: 60_000 }).decision).toBe('allow');
  });

  it('keeps bundles apart in Cedar’s preparsed cache', () => {
    // Same request, two bundles: one with a no-discount policy. Each evaluator answers with its own.
    const strict = parseBundle(
      minimalBundleFiles({
        'policies/main.cedar':
          '@id("permit.all") permit (principal, action, resource);\n' +
          '@id("no-discounts") @reason("NO_DISCOUNTS") forbid (principal, action, resource);',
      }),
    );
    const lenient = parseBundle(minimalBundleFiles());
    const a = new BundleRegistry();
    const b = new BundleRegistry();
    expect(a.offer(strict, t0).ok).toBe(true);
    expect(b.offer(lenient, t0).ok).toBe(true);
    const req = input10(at(1));
    for (let i = 0; i < 3; i++) {
      expect(a.evaluate(req, { maxAgeMs: 1000 }).reasonCodes).toEqual(['NO_DISCOUNTS']);
      expect(b.evaluate(req, { maxAgeMs: 1000 }).decision).toBe('allow');
    }
  });
});
