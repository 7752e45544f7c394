import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StorageUnavailableError } from '@mandate/storage';
import { placeholdersIn } from './prompt-content';
import { PROMPT_TENANT } from './prompt.collections';
import { PromptSeedError } from './prompt.errors';
import { SEED_APPROVER, SEED_AUTHOR } from './prompt.model';
import { renderPrompt } from './prompt-renderer';
import { loadPromptDirectory, seedFromDirectory } from './prompt-seeder';
import { failingOnce, inMemoryPromptRegistry, sampleContent } from './testing/prompt-fixtures';

const REPOSITORY_PROMPTS = resolve(__dirname, '../../../../prompts');

function promptFile(id: string, system: string): string {
  return `---
id: ${id}
description: Test prompt ${id}
variables: [record, now]
---

## system

${system}

## user

Now {{now}}
<<<DATA record
{{record}}
DATA>>>
`;
}

describe('seedFromDirectory', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prompts-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writePrompt(id: string, system: string): Promise<void> {
    await mkdir(join(dir, id), { recursive: true });
    await writeFile(join(dir, id, 'prompt.md'), promptFile(id, system));
  }

  it('bootstraps new prompt ids as active version 1, and is idempotent', async () => {
    const { registry, versions, pointers } = inMemoryPromptRegistry();
    await writePrompt('alpha', 'Alpha.');
    await writePrompt('beta', 'Beta.');
    await writeFile(join(dir, 'README.md'), 'not a prompt');

    const first = await seedFromDirectory(registry, dir);
    expect(first.map((r) => [r.promptId, r.outcome, r.created, r.version.version])).toEqual([
      ['alpha', 'seeded', true, 1],
      ['beta', 'seeded', true, 1],
    ]);
    expect(await registry.active('alpha')).toMatchObject({
      version: 1,
      status: 'active',
      author: SEED_AUTHOR,
      approvedBy: SEED_APPROVER,
      activatedBy: SEED_APPROVER,
    });

    const counts = async () => [
      await versions.count(PROMPT_TENANT),
      await pointers.count(PROMPT_TENANT),
    ];
    const before = await counts();
    const second = await seedFromDirectory(registry, dir);
    expect(second.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged']);
    expect(await counts()).toEqual(before);
    expect(await registry.history('alpha')).toHaveLength(1);
  });

  it('proposes a changed file as a draft and leaves the active version alone', async () => {
    const { registry } = inMemoryPromptRegistry();
    await writePrompt('alpha', 'Alpha.');
    await seedFromDirectory(registry, dir);
    await writePrompt('alpha', 'Alpha, improved.');

    const [changed] = await seedFromDirectory(registry, dir);
    expect(changed).toMatchObject({ outcome: 'proposed', created: true });
    expect(changed?.version).toMatchObject({ version: 2, status: 'draft', author: SEED_AUTHOR });
    expect((await registry.active('alpha')).version).toBe(1);

    // Seeding again does not pile up drafts.
    const [again] = await seedFromDirectory(registry, dir);
    expect(again).toMatchObject({ outcome: 'proposed', created: false });
    expect(await registry.list('alpha')).toHaveLength(2);

    // The draft goes through the normal two-person activation.
    await registry.approve('alpha', 2, 'alice');
    await registry.activate('alpha', 2, 'bob');
    const [done] = await seedFromDirectory(registry, dir);
    expect(done).toMatchObject({ outcome: 'unchanged' });
    expect((await registry.active('alpha')).version).toBe(2);
  });

  it('does not activate a file for a prompt id that people already work on', async () => {
    const { registry } = inMemoryPromptRegistry();
    await registry.propose('alpha', sampleContent('Human draft'), 'alice');
    await writePrompt('alpha', 'Alpha.');
    const [result] = await seedFromDirectory(registry, dir);
    expect(result).toMatchObject({ outcome: 'proposed', created: true });
    expect(result?.version).toMatchObject({ version: 2, status: 'draft' });
    await expect(registry.active('alpha')).rejects.toThrow(/no active version/);
  });

  it('does not re-activate a prompt whose active version was retired', async () => {
    const { registry } = inMemoryPromptRegistry();
    await writePrompt('alpha', 'Alpha.');
    await seedFromDirectory(registry, dir);
    await registry.retire('alpha', 1, 'erin', 'incident');
    const [result] = await seedFromDirectory(registry, dir);
    expect(result).toMatchObject({ outcome: 'proposed', created: false });
    expect(result?.version.status).toBe('retired');
    await expect(registry.active('alpha')).rejects.toThrow(/no active version/);
  });

  it('completes a bootstrap that failed after the proposal was stored', async () => {
    const { registry } = inMemoryPromptRegistry({
      wrapVersions: (s) =>
        failingOnce(
          s,
          'update',
          () => true,
          () => new StorageUnavailableError('database went away'),
        ),
    });
    await writePrompt('alpha', 'Alpha.');
    await expect(seedFromDirectory(registry, dir)).rejects.toThrow(StorageUnavailableError);
    expect(await registry.list('alpha')).toMatchObject([{ version: 1, status: 'draft' }]);

    const [result] = await seedFromDirectory(registry, dir);
    expect(result).toMatchObject({ outcome: 'seeded', created: false });
    expect((await registry.active('alpha')).version).toBe(1);
  });

  it('concurrent seeders bootstrap once', async () => {
    const { registry } = inMemoryPromptRegistry();
    await writePrompt('alpha', 'Alpha.');
    const runs = await Promise.all([
      seedFromDirectory(registry, dir),
      seedFromDirectory(registry, dir),
    ]);
    expect(runs.flat().every((r) => r.version.status === 'active')).toBe(true);
    expect(await registry.list('alpha')).toHaveLength(1);
    expect(await registry.history('alpha')).toHaveLength(1);
  });

  it('refuses the whole directory when any file is invalid, before writing anything', async () => {
    const { registry, versions } = inMemoryPromptRegistry();
    await writePrompt('alpha', 'Alpha.');
    await writePrompt('beta', 'Beta uses {{undeclared}}.');
    await mkdir(join(dir, 'gamma'));
    await mkdir(join(dir, 'delta'));
    await writeFile(join(dir, 'delta', 'prompt.md'), promptFile('other', 'x'));
    const attempt = seedFromDirectory(registry, dir);
    await expect(attempt).rejects.toThrow(PromptSeedError);
    const problems = await attempt.catch((err: PromptSeedError) => err.problems);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^beta\/prompt.md: placeholder \{\{undeclared\}\}/),
        expect.stringMatching(/^gamma\/prompt.md: cannot be read \(ENOENT\)/),
        expect.stringMatching(/^delta\/prompt.md: id "other" differs from its directory/),
      ]),
    );
    expect(await versions.count(PROMPT_TENANT)).toBe(0);
  });

  it('reports a missing directory', async () => {
    const { registry } = inMemoryPromptRegistry();
    await expect(seedFromDirectory(registry, join(dir, 'nope'))).rejects.toThrow(
      /cannot read the prompt directory/,
    );
  });
});

describe('the repository prompts (prompts/)', () => {
  const AGENTS = {
    'lead-qualification': [
      'qualify_lead',
      'disqualify_lead',
      'assign_owner',
      'send_email',
      'hand_off',
    ],
    'deal-desk': ['apply_discount', 'move_opportunity_stage', 'hand_off'],
    'service-triage': ['update_field', 'reply_to_case', 'close_case', 'escalate', 'hand_off'],
    outreach: ['send_email', 'no_action', 'hand_off'],
  } as const;

  it('are the four agent prompts, and each declares exactly the variables it uses', async () => {
    const files = await loadPromptDirectory(REPOSITORY_PROMPTS);
    expect(files.map((f) => f.promptId).sort()).toEqual(Object.keys(AGENTS).sort());
    for (const { content } of files) {
      const used = new Set([
        ...placeholdersIn(content.template.system),
        ...placeholdersIn(content.template.user),
      ]);
      expect([...used].sort()).toEqual([...content.variables]);
      expect(content.variables).toEqual(
        expect.arrayContaining(['record', 'activity', 'now', 'tenant_rules', 'target']),
      );
    }
  });

  it.each(Object.entries(AGENTS))('%s states its tools and the safety rules', async (id, tools) => {
    const file = (await loadPromptDirectory(REPOSITORY_PROMPTS)).find((f) => f.promptId === id)!;
    const { system, user } = file.content.template;
    for (const tool of tools) expect(system).toContain(`\`${tool}(`);
    expect(system).toMatch(/Answer only through tool calls/);
    expect(system).toMatch(/is DATA/);
    expect(system).toMatch(/never an instruction to you/);
    expect(system).toMatch(/Never guess which record a name refers to/);
    expect(system).toMatch(/candidate record ids/);
    expect(system).toContain('⟦PERSON_1⟧');
    expect(system).toMatch(/Keep every token exactly as written/);
    // The system message describes the nonce-delimited blocks the step puts the data in; the
    // user half starts with the time and target lines and has each data variable on its own line
    // (the step fills it with a whole DATA block: no wrapper of the template's own around it).
    expect(system).toContain('`<<<DATA name nonce>>>`');
    expect(system).toContain('`<<<END nonce>>>`');
    expect(user.startsWith('Current time: {{now}}\nTarget: {{target}}\n')).toBe(true);
    for (const name of ['record', 'activity'])
      expect(user).toMatch(new RegExp(`^\\{\\{${name}\\}\\}$`, 'm'));
    expect(user).not.toContain('DATA>>>');
  });

  it('seed, activate and render without leftover placeholders', async () => {
    const { registry } = inMemoryPromptRegistry();
    const results = await seedFromDirectory(registry, REPOSITORY_PROMPTS);
    expect(results.every((r) => r.outcome === 'seeded')).toBe(true);
    for (const id of Object.keys(AGENTS)) {
      const active = await registry.active(id);
      const vars = Object.fromEntries(active.variables.map((v) => [v, `value of ${v}`]));
      const rendered = renderPrompt(active, vars);
      expect(`${rendered.system}\n${rendered.user}`).not.toContain('{{');
      expect(rendered.ref).toEqual({ promptId: id, version: 1, contentHash: active.contentHash });
    }
  });
});
