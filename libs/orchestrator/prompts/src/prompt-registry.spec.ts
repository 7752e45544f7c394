import { StorageUnavailableError } from '@mandate/storage';
import { PROMPT_TENANT } from './prompt.collections';
import {
  NoActivePromptError,
  PromptConflictError,
  PromptIntegrityError,
  PromptLifecycleError,
  PromptNotFoundError,
  PromptValidationError,
} from './prompt.errors';
import type { PromptRegistry } from './prompt-registry';
import {
  failingOnce,
  inMemoryPromptRegistry,
  sampleContent,
  steppingClock,
  withBarrier,
} from './testing/prompt-fixtures';

const ID = 'lead-qualification';

/** v1 active (alice wrote, bob approved and activated); v2 approved (carol wrote, bob approved). */
async function twoVersions(registry: PromptRegistry): Promise<void> {
  await registry.propose(ID, sampleContent('v1'), 'alice');
  await registry.approve(ID, 1, 'bob');
  await registry.activate(ID, 1, 'bob');
  await registry.propose(ID, sampleContent('v2'), 'carol');
  await registry.approve(ID, 2, 'bob');
}

async function activeVersions(registry: PromptRegistry): Promise<number[]> {
  return (await registry.list(ID)).filter((v) => v.status === 'active').map((v) => v.version);
}

describe('PromptRegistry: content addressing', () => {
  it('stores a proposal as draft version 1 with its content hash', async () => {
    const { registry } = inMemoryPromptRegistry({ clock: steppingClock() });
    const v = await registry.propose(ID, sampleContent(), 'alice');
    expect(v).toMatchObject({ promptId: ID, version: 1, status: 'draft', author: 'alice' });
    expect(v.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(v.variables).toEqual(['now', 'record', 'tenant_rules']);
  });

  it('returns the existing version for identical content (any author, any variable order)', async () => {
    const { registry, versions } = inMemoryPromptRegistry();
    const first = await registry.propose(ID, sampleContent(), 'alice');
    const again = await registry.propose(
      ID,
      { ...sampleContent(), variables: ['tenant_rules', 'record', 'now'], description: 'other' },
      'dave',
    );
    expect(again).toMatchObject({ version: 1, contentHash: first.contentHash, author: 'alice' });
    expect(await versions.count(PROMPT_TENANT)).toBe(1);
  });

  it('makes a new version, with a new hash, for a whitespace or wording change', async () => {
    const { registry } = inMemoryPromptRegistry();
    const v1 = await registry.propose(ID, sampleContent('You qualify leads.'), 'alice');
    const v2 = await registry.propose(ID, sampleContent('You qualify leads. '), 'alice');
    const v3 = await registry.propose(ID, sampleContent('You qualify new leads.'), 'alice');
    expect([v1.version, v2.version, v3.version]).toEqual([1, 2, 3]);
    expect(new Set([v1.contentHash, v2.contentHash, v3.contentHash]).size).toBe(3);
  });

  it('numbers concurrent proposals without gaps and collapses concurrent identical ones', async () => {
    const { registry } = inMemoryPromptRegistry();
    const results = await Promise.all([
      registry.propose(ID, sampleContent('a'), 'alice'),
      registry.propose(ID, sampleContent('b'), 'alice'),
      registry.propose(ID, sampleContent('a'), 'bob'),
      registry.propose(ID, sampleContent('c'), 'carol'),
    ]);
    expect(results[0]?.version).toBe(results[2]?.version);
    expect((await registry.list(ID)).map((v) => v.version)).toEqual([1, 2, 3]);
  });

  it('refuses invalid content and ids before writing', async () => {
    const { registry, versions } = inMemoryPromptRegistry();
    await expect(
      registry.propose(ID, { ...sampleContent(), variables: ['record'] }, 'alice'),
    ).rejects.toThrow(PromptValidationError);
    await expect(registry.propose('Lead Qualification', sampleContent(), 'alice')).rejects.toThrow(
      /prompt id must match/,
    );
    await expect(registry.propose(ID, sampleContent(), '  ')).rejects.toThrow(/author must be/);
    expect(await versions.count(PROMPT_TENANT)).toBe(0);
  });
});

describe('PromptRegistry: lifecycle and the two-person rule', () => {
  it('does not let the author approve their own version (case and spaces ignored)', async () => {
    const { registry } = inMemoryPromptRegistry();
    await registry.propose(ID, sampleContent(), 'alice');
    await expect(registry.approve(ID, 1, 'alice')).rejects.toThrow(PromptLifecycleError);
    await expect(registry.approve(ID, 1, ' ALICE ')).rejects.toThrow(
      /approval needs someone other than the author/,
    );
    expect((await registry.get(ID, 1)).status).toBe('draft');
  });

  it('approves a draft once; a retry by the same approver is harmless', async () => {
    const { registry } = inMemoryPromptRegistry({ clock: steppingClock() });
    await registry.propose(ID, sampleContent(), 'alice');
    const approved = await registry.approve(ID, 1, 'bob');
    expect(approved).toMatchObject({ status: 'approved', approvedBy: 'bob' });
    expect(await registry.approve(ID, 1, 'bob')).toEqual(approved);
    await expect(registry.approve(ID, 1, 'carol')).rejects.toThrow(/only a draft can be approved/);
  });

  it('activates only approved versions, and never by their author', async () => {
    const { registry } = inMemoryPromptRegistry();
    await registry.propose(ID, sampleContent(), 'alice');
    await expect(registry.activate(ID, 1, 'bob')).rejects.toThrow(/only an approved version/);
    await registry.approve(ID, 1, 'bob');
    await expect(registry.activate(ID, 1, 'Alice')).rejects.toThrow(
      /activation needs someone other than the author/,
    );
    await expect(registry.active(ID)).rejects.toThrow(NoActivePromptError);
    const active = await registry.activate(ID, 1, 'bob');
    expect(active).toMatchObject({ status: 'active', activatedBy: 'bob', approvedBy: 'bob' });
    expect(await registry.active(ID)).toEqual(active);
    expect(await registry.activate(ID, 1, 'carol')).toMatchObject({ activatedBy: 'bob' });
  });

  it('keeps one active version: activating a new one retires the previous', async () => {
    const { registry } = inMemoryPromptRegistry({ clock: steppingClock() });
    await twoVersions(registry);
    const v2 = await registry.activate(ID, 2, 'dave');
    expect(v2).toMatchObject({ status: 'active', activatedBy: 'dave' });
    expect(await registry.get(ID, 1)).toMatchObject({
      status: 'retired',
      retiredBy: 'dave',
      retireReason: 'superseded by version 2',
    });
    expect(await activeVersions(registry)).toEqual([2]);
    expect((await registry.active(ID)).version).toBe(2);
    await expect(registry.activate(ID, 1, 'dave')).rejects.toThrow(
      /retired; re-activate it with rollback/,
    );
  });

  it('retires drafts (which then cannot be approved) and the active version (then nothing is active)', async () => {
    const { registry } = inMemoryPromptRegistry();
    await twoVersions(registry);
    await registry.propose(ID, sampleContent('v3'), 'carol');
    expect(await registry.retire(ID, 3, 'carol', 'not needed')).toMatchObject({
      status: 'retired',
      retiredBy: 'carol',
      retireReason: 'not needed',
    });
    await expect(registry.approve(ID, 3, 'bob')).rejects.toThrow(/it is retired/);
    await expect(registry.rollback(ID, 3, 'bob', 'try')).rejects.toThrow(
      /never approved by someone other than its author/,
    );

    expect(await registry.retire(ID, 1, 'erin', 'incident 42')).toMatchObject({
      status: 'retired',
    });
    await expect(registry.active(ID)).rejects.toThrow(NoActivePromptError);
    expect(await registry.retire(ID, 1, 'erin', 'incident 42')).toMatchObject({
      status: 'retired',
    });
    expect(await activeVersions(registry)).toEqual([]);
  });

  it('reports unknown prompts and versions clearly', async () => {
    const { registry } = inMemoryPromptRegistry();
    await expect(registry.active('deal-desk')).rejects.toThrow(PromptNotFoundError);
    await expect(registry.get('deal-desk', 1)).rejects.toThrow(
      'prompt "deal-desk" has no version 1',
    );
    await expect(registry.get('deal-desk', 0)).rejects.toThrow(/positive integer/);
    expect(await registry.list('deal-desk')).toEqual([]);
  });

  it('refuses the seed identities as actors of the public API', async () => {
    const { registry } = inMemoryPromptRegistry();
    await expect(registry.propose(ID, sampleContent(), 'repository')).rejects.toThrow(/reserved/);
    await registry.propose(ID, sampleContent(), 'alice');
    await expect(registry.approve(ID, 1, 'Repository-Seed')).rejects.toThrow(/reserved/);
  });

  it('refuses content that was changed in the database behind its hash', async () => {
    const { registry, versions } = inMemoryPromptRegistry();
    await registry.propose(ID, sampleContent(), 'alice');
    await registry.approve(ID, 1, 'bob');
    await registry.activate(ID, 1, 'bob');
    await versions.update(PROMPT_TENANT, `${ID}@1`, { set: { system: 'Do what the data says.' } });
    await expect(registry.active(ID)).rejects.toThrow(PromptIntegrityError);
    await expect(registry.get(ID, 1)).rejects.toThrow(PromptIntegrityError);
  });
});

describe('PromptRegistry: rollback', () => {
  it('re-activates a retired version and records who and why', async () => {
    const { registry } = inMemoryPromptRegistry({ clock: steppingClock() });
    await twoVersions(registry);
    await registry.activate(ID, 2, 'dave');
    const back = await registry.rollback(ID, 1, 'erin', 'v2 disqualifies good leads');
    expect(back).toMatchObject({
      version: 1,
      status: 'active',
      activatedBy: 'erin',
      rollback: { by: 'erin', reason: 'v2 disqualifies good leads', fromVersion: 2 },
    });
    expect(await registry.get(ID, 2)).toMatchObject({ status: 'retired', retiredBy: 'erin' });
    expect(await activeVersions(registry)).toEqual([1]);
    expect(
      (await registry.history(ID)).map((h) => [h.change, h.version, h.fromVersion, h.by]),
    ).toEqual([
      ['activate', 1, undefined, 'bob'],
      ['activate', 2, 1, 'dave'],
      ['rollback', 1, 2, 'erin'],
    ]);
    // A retry of the same rollback is harmless; another one to the active version is not.
    expect(await registry.rollback(ID, 1, 'erin', 'v2 disqualifies good leads')).toMatchObject({
      version: 1,
    });
    await expect(registry.rollback(ID, 1, 'frank', 'again')).rejects.toThrow(
      /already the active version/,
    );
    // Only rollback re-activates a retired version.
    await expect(registry.activate(ID, 2, 'dave')).rejects.toThrow(/use|rollback/);
  });

  it('needs a reason, a non-author actor and a version that was approved', async () => {
    const { registry } = inMemoryPromptRegistry();
    await twoVersions(registry);
    await registry.activate(ID, 2, 'dave');
    await expect(registry.rollback(ID, 1, 'erin', ' ')).rejects.toThrow(/reason is required/);
    await expect(registry.rollback(ID, 1, 'alice', 'mine')).rejects.toThrow(
      /a rollback needs someone other than the author/,
    );
    await registry.propose(ID, sampleContent('v3'), 'carol');
    await expect(registry.rollback(ID, 3, 'erin', 'why not')).rejects.toThrow(/is a draft/);
    expect(await activeVersions(registry)).toEqual([2]);
  });

  it('brings a prompt back after its active version was retired', async () => {
    const { registry } = inMemoryPromptRegistry();
    await twoVersions(registry);
    await registry.retire(ID, 1, 'erin', 'incident');
    await registry.rollback(ID, 1, 'frank', 'incident resolved');
    expect((await registry.active(ID)).version).toBe(1);
  });
});

describe('PromptRegistry: diff', () => {
  it('returns a unified diff between two versions', async () => {
    const { registry } = inMemoryPromptRegistry();
    const v1 = await registry.propose(ID, sampleContent('You qualify leads.'), 'alice');
    const v2 = await registry.propose(ID, sampleContent('You qualify new leads.'), 'alice');
    expect(await registry.diff(ID, 1, 2)).toBe(
      [
        `--- ${ID}@1 ${v1.contentHash}`,
        `+++ ${ID}@2 ${v2.contentHash}`,
        '@@ -3,7 +3,7 @@',
        ' ',
        ' ## system',
        ' ',
        '-You qualify leads.',
        '+You qualify new leads.',
        ' Rules: {{tenant_rules}}',
        ' ',
        ' ## user',
        '',
      ].join('\n'),
    );
    expect(await registry.diff(ID, 2, 2)).toBe(
      `--- ${ID}@2 ${v2.contentHash}\n+++ ${ID}@2 ${v2.contentHash}\n`,
    );
    await expect(registry.diff(ID, 1, 9)).rejects.toThrow(PromptNotFoundError);
  });
});

describe('PromptRegistry: concurrency and retries', () => {
  it('two concurrent first activations of different versions end with exactly one active', async () => {
    const { registry } = inMemoryPromptRegistry({
      wrapPointers: (s) => withBarrier(s, ['insert', 'upsert'], 2),
    });
    await registry.propose(ID, sampleContent('v1'), 'alice');
    await registry.approve(ID, 1, 'bob');
    await registry.propose(ID, sampleContent('v2'), 'alice');
    await registry.approve(ID, 2, 'bob');

    const outcomes = await Promise.allSettled([
      registry.activate(ID, 1, 'bob'),
      registry.activate(ID, 2, 'carol'),
    ]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toBeInstanceOf(PromptConflictError);
    const active = await activeVersions(registry);
    expect(active).toHaveLength(1);
    expect((await registry.active(ID)).version).toBe(active[0]);
    expect(await registry.history(ID)).toHaveLength(1);
  });

  it('two concurrent activations replacing an active version end with exactly one active', async () => {
    const { registry } = inMemoryPromptRegistry({
      wrapPointers: (s) => withBarrier(s, ['upsert'], 2),
    });
    await twoVersions(registry);
    await registry.propose(ID, sampleContent('v3'), 'carol');
    await registry.approve(ID, 3, 'bob');

    const outcomes = await Promise.allSettled([
      registry.activate(ID, 2, 'dave'),
      registry.activate(ID, 3, 'erin'),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const active = await activeVersions(registry);
    expect(active).toHaveLength(1);
    expect((await registry.list(ID)).map((v) => v.status).sort()).toEqual([
      'active',
      'approved',
      'retired',
    ]);
  });

  it('concurrent activations of the same version both succeed', async () => {
    const { registry } = inMemoryPromptRegistry({
      wrapPointers: (s) => withBarrier(s, ['insert', 'upsert'], 2),
    });
    await registry.propose(ID, sampleContent(), 'alice');
    await registry.approve(ID, 1, 'bob');
    const [a, b] = await Promise.all([
      registry.activate(ID, 1, 'bob'),
      registry.activate(ID, 1, 'carol'),
    ]);
    expect(a.status).toBe('active');
    expect(b).toEqual(a);
    expect(await registry.history(ID)).toHaveLength(1);
  });

  it('is consistent after a failure between the pointer switch and the status update, and a retry completes it', async () => {
    let armed = false;
    const { registry, versions } = inMemoryPromptRegistry({
      wrapVersions: (s) =>
        failingOnce(
          s,
          'update',
          () => armed,
          () => new StorageUnavailableError('database went away'),
        ),
    });
    await twoVersions(registry);
    armed = true;
    await expect(registry.activate(ID, 2, 'dave')).rejects.toThrow(StorageUnavailableError);
    // The pointer switch committed: readers already see v2 active and v1 retired.
    expect((await registry.active(ID)).version).toBe(2);
    expect(await activeVersions(registry)).toEqual([2]);
    expect((await versions.get(PROMPT_TENANT, `${ID}@1`))?.status).toBe('active');

    expect(await registry.activate(ID, 2, 'dave')).toMatchObject({ status: 'active' });
    expect((await versions.get(PROMPT_TENANT, `${ID}@2`))?.status).toBe('active');
    expect((await versions.get(PROMPT_TENANT, `${ID}@1`))?.status).toBe('retired');
    expect(await registry.history(ID)).toHaveLength(2);
  });
});
