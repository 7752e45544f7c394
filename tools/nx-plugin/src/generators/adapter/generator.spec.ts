import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJson, readProjectConfiguration, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import type { ConnectorAdapter } from '@mandate/connector-sdk';
import {
  CONFORMANCE_CHECKS,
  runConformance,
  type ConformanceHarness,
  type HarnessFactory,
} from '@mandate/connector-conformance';
import { adapterGenerator, type AdapterGeneratorSchema } from './generator';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..', '..');
const TEMPLATES = path.join(__dirname, 'files');

/**
 * An empty workspace with a root tsconfig, and without the oxfmt configuration the devkit puts
 * there (oxfmt is not installed: formatFiles would warn on every run). The real workspace formats
 * with prettier, which `nx g` runs; here the templates' own formatting is what is generated.
 */
function treeWithRootTsconfig(): Tree {
  const tree = createTreeWithEmptyWorkspace();
  tree.delete('.oxfmtrc.json');
  tree.write(
    'tsconfig.base.json',
    JSON.stringify({
      compilerOptions: {
        paths: { '@mandate/connector-sdk': ['libs/connectors/sdk/src/index.ts'] },
      },
    }),
  );
  return tree;
}

async function generate(options: AdapterGeneratorSchema, tree = treeWithRootTsconfig()) {
  await adapterGenerator(tree, options);
  return tree;
}

const read = (tree: Tree, file: string) => {
  const content = tree.read(file, 'utf-8');
  if (content === null) throw new Error(`${file} was not generated`);
  return content;
};

/** Files the generator created or updated, by path. */
const changedPaths = (tree: Tree) =>
  tree
    .listChanges()
    .filter((c) => c.type !== 'DELETE')
    .map((c) => c.path)
    .sort();

describe('adapter generator', () => {
  it('scaffolds connector-<name> in libs/connectors/<name>', async () => {
    const tree = await generate({ name: 'acme-crm' });
    const dir = 'libs/connectors/acme-crm';
    expect(changedPaths(tree).filter((p) => p.startsWith(`${dir}/`))).toEqual(
      [
        'README.md',
        'project.json',
        'src/acme-crm.adapter.ts',
        'src/acme-crm.conformance.spec.ts',
        'src/index.ts',
        'src/testing/fake-acme-crm.ts',
        'src/testing/harness.ts',
        'src/testing/index.ts',
      ].map((f) => `${dir}/${f}`),
    );

    const project = readProjectConfiguration(tree, 'connector-acme-crm');
    expect(project).toMatchObject({
      root: dir,
      projectType: 'library',
      sourceRoot: `${dir}/src`,
      tags: ['type:adapter', 'scope:crm-connectors'],
      targets: {
        test: { command: `jest -c jest.config.js ${dir}` },
        lint: { command: `eslint ${dir}` },
      },
    });

    expect(readJson(tree, 'tsconfig.base.json').compilerOptions.paths).toEqual({
      '@mandate/connector-sdk': ['libs/connectors/sdk/src/index.ts'],
      '@mandate/connector-acme-crm': [`${dir}/src/index.ts`],
      '@mandate/connector-acme-crm/testing': [`${dir}/src/testing/index.ts`],
    });

    const adapter = read(tree, `${dir}/src/acme-crm.adapter.ts`);
    expect(adapter).toContain('export const ACME_CRM_CAPABILITIES: ConnectorCapabilities = {');
    expect(adapter).toContain("connector: 'acme-crm',");
    expect(adapter).toContain("changeFeed: 'polling',");
    expect(adapter).toContain('crmSideIdempotency: false,');
    expect(adapter).toContain('export class AcmeCrmAdapter implements ConnectorAdapter {');
    for (const method of ['execute', 'read', 'pollChanges', 'compensate'])
      expect(adapter).toContain(`throw notImplemented('AcmeCrmAdapter.${method}');`);
    expect(adapter).not.toContain('parseWebhook');

    expect(read(tree, `${dir}/src/acme-crm.conformance.spec.ts`)).toContain(
      "describeConformance('acme-crm', acmeCrmHarness);",
    );
    expect(read(tree, `${dir}/src/testing/harness.ts`)).toContain(
      'export async function acmeCrmHarness(): Promise<ConformanceHarness> {',
    );
    expect(read(tree, `${dir}/src/testing/harness.ts`)).not.toContain('takeWebhooks');
    expect(read(tree, `${dir}/src/testing/fake-acme-crm.ts`)).toContain(
      'export class FakeAcmeCrm {',
    );
    expect(read(tree, `${dir}/src/index.ts`)).toBe("export * from './acme-crm.adapter';\n");
    expect(read(tree, `${dir}/src/testing/index.ts`)).toBe(
      "export * from './fake-acme-crm';\nexport * from './harness';\n",
    );
    const readme = read(tree, `${dir}/README.md`);
    expect(readme).toContain('# connector-acme-crm');
    expect(readme).toContain(`npx jest -c jest.config.js ${dir}`);
    expect(readme).toContain('](../../../libs/connectors/sdk/src/adapter.ts)');

    for (const file of changedPaths(tree).filter((p) => p.startsWith(`${dir}/`))) {
      expect(read(tree, file)).not.toMatch(/<%|%>|__name__/);
      expect(file).not.toMatch(/\.template$/);
    }
  });

  it('scaffolds a webhook adapter: parseWebhook, and a harness with signed webhook calls', async () => {
    const tree = await generate({ name: 'beta-desk', changeFeed: 'webhook' });
    const dir = 'libs/connectors/beta-desk';
    const adapter = read(tree, `${dir}/src/beta-desk.adapter.ts`);
    expect(adapter).toContain("changeFeed: 'webhook',");
    expect(adapter).toContain("throw notImplemented('BetaDeskAdapter.parseWebhook');");
    expect(adapter).not.toContain('pollChanges');
    expect(read(tree, `${dir}/src/testing/harness.ts`)).toContain(
      'takeWebhooks: async () => crm.takeWebhooks(),',
    );
    expect(read(tree, `${dir}/src/testing/fake-beta-desk.ts`)).toContain(
      "'x-beta-desk-signature': `sha256=${signature}`",
    );
  });

  it('puts the lib in --directory when given', async () => {
    const tree = await generate({ name: 'gamma', directory: 'libs/connectors/vendors/gamma/' });
    const dir = 'libs/connectors/vendors/gamma';
    expect(readProjectConfiguration(tree, 'connector-gamma').root).toBe(dir);
    expect(tree.exists(`${dir}/src/gamma.adapter.ts`)).toBe(true);
    expect(
      readJson(tree, 'tsconfig.base.json').compilerOptions.paths['@mandate/connector-gamma'],
    ).toEqual([`${dir}/src/index.ts`]);
    expect(read(tree, `${dir}/README.md`)).toContain(
      '](../../../../libs/connectors/sdk/src/adapter.ts)',
    );
  });

  describe('refuses bad options, with a clear message and nothing written', () => {
    const kebab =
      /Invalid adapter name ".*": use kebab case \(lower-case letters and digits, words separated by single hyphens, starting with a letter\), e\.g\. "acme-crm"\./;
    it.each([
      ['Acme', kebab],
      ['acme_crm', kebab],
      ['acmeCrm', kebab],
      ['acme--crm', kebab],
      ['-acme', kebab],
      ['acme-', kebab],
      ['1acme', kebab],
      ['acme crm', kebab],
      ['../acme', kebab],
      ['a'.repeat(33), /at most 32 characters/],
      ['', /Missing --name/],
    ])('name %j', async (name, message) => {
      const tree = treeWithRootTsconfig();
      const before = changedPaths(tree);
      await expect(adapterGenerator(tree, { name })).rejects.toThrow(message);
      expect(changedPaths(tree)).toEqual(before);
    });

    it('a name that is not a string', async () => {
      await expect(
        adapterGenerator(treeWithRootTsconfig(), { name: undefined as unknown as string }),
      ).rejects.toThrow(/Missing --name/);
    });

    it.each(['/abs/acme', '../outside/acme', 'libs/../../acme', '.', 'C:/acme'])(
      'directory %j',
      async (directory) => {
        await expect(
          adapterGenerator(treeWithRootTsconfig(), { name: 'acme', directory }),
        ).rejects.toThrow(/Invalid --directory .*: expected a path relative to the workspace root/);
      },
    );

    it('a change feed other than polling or webhook', async () => {
      await expect(
        adapterGenerator(treeWithRootTsconfig(), {
          name: 'acme',
          changeFeed: 'sse' as unknown as 'polling',
        }),
      ).rejects.toThrow('Invalid --changeFeed "sse": expected polling or webhook.');
    });

    it('an existing directory, project or alias', async () => {
      const tree = await generate({ name: 'acme' });
      await expect(adapterGenerator(tree, { name: 'acme' })).rejects.toThrow(
        'Cannot create the adapter in libs/connectors/acme: it already exists.',
      );
      await expect(
        adapterGenerator(tree, { name: 'acme', directory: 'libs/elsewhere/acme' }),
      ).rejects.toThrow(
        'Cannot create project connector-acme: a project of that name already exists in libs/connectors/acme.',
      );
      const aliased = treeWithRootTsconfig();
      aliased.write(
        'tsconfig.base.json',
        JSON.stringify({ compilerOptions: { paths: { '@mandate/connector-acme': ['x.ts'] } } }),
      );
      await expect(adapterGenerator(aliased, { name: 'acme' })).rejects.toThrow(
        'Cannot add path alias @mandate/connector-acme: tsconfig.base.json already maps it to x.ts.',
      );
    });
  });

  it('keeps its templates out of Jest and tsc (every template file ends in .template)', () => {
    const walk = (dir: string): string[] =>
      fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((e) =>
          e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
        );
    const files = walk(TEMPLATES);
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !f.endsWith('.template'))).toEqual([]);
  });
});

/**
 * The done-when criterion, for real: the scaffolded lib is written to a scratch directory inside
 * the repo (so ts-jest transforms it and the @mandate/* aliases resolve), its harness is loaded,
 * and the conformance kit runs against it.
 */
describe('a scaffolded adapter against the conformance kit', () => {
  const scratch = path.join(REPO_ROOT, 'tmp', `generator-spec-${randomBytes(4).toString('hex')}`);

  afterAll(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
    // tmp/ itself too, unless something else is using it.
    const tmp = path.dirname(scratch);
    if (fs.existsSync(tmp) && fs.readdirSync(tmp).length === 0) fs.rmdirSync(tmp);
  });

  /** Generates the lib in a tree, writes its files under `scratch`, and loads its harness. */
  async function scaffoldedHarness(name: string, changeFeed: 'polling' | 'webhook') {
    const tree = await generate({ name, changeFeed });
    const dir = `libs/connectors/${name}`;
    for (const change of tree.listChanges())
      if (change.type !== 'DELETE' && change.path.startsWith(`${dir}/`) && change.content) {
        const target = path.join(scratch, change.path);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, change.content);
      }
    const testing = require(path.join(scratch, dir, 'src', 'testing')) as Record<string, unknown>;
    const factory = testing[`${name.replace(/-(.)/g, (_m, c: string) => c.toUpperCase())}Harness`];
    expect(typeof factory).toBe('function');
    return factory as HarnessFactory;
  }

  /** What the adapter did during one check: the methods called and the error codes thrown. */
  interface AdapterLog {
    calls: string[];
    codes: string[];
  }

  function spied(adapter: ConnectorAdapter, log: AdapterLog): ConnectorAdapter {
    return new Proxy(adapter, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          log.calls.push(String(prop));
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (err) {
            log.codes.push(String((err as { code?: unknown }).code));
            throw err;
          }
        };
      },
    });
  }

  /** Runs the kit; one adapter log per check, in check order (runConformance runs them in turn). */
  async function runLogged(factory: HarnessFactory) {
    const logs: AdapterLog[] = [];
    const results = await runConformance(async (): Promise<ConformanceHarness> => {
      const log: AdapterLog = { calls: [], codes: [] };
      logs.push(log);
      const h = await factory();
      return {
        ...h,
        adapter: spied(h.adapter, log),
        restartAdapter: async () => spied(await h.restartAdapter(), log),
      };
    });
    expect(logs).toHaveLength(results.length);
    return results.map((r, i) => ({ ...r, log: logs[i] }));
  }

  it.each([
    ['polling', 'acme-crm'],
    ['webhook', 'beta-desk'],
  ] as const)(
    'a %s adapter passes every structural check and fails the behavioural ones with NOT_IMPLEMENTED',
    async (changeFeed, name) => {
      const results = await runLogged(await scaffoldedHarness(name, changeFeed));
      expect(results.map((r) => r.id)).toEqual(CONFORMANCE_CHECKS.map((c) => c.id));

      for (const r of results.filter((x) => x.kind === 'structural'))
        expect({ id: r.id, passed: r.passed, error: r.error }).toEqual({
          id: r.id,
          passed: true,
          error: undefined,
        });

      for (const r of results.filter((x) => x.kind === 'behavioural')) {
        expect({ id: r.id, passed: r.passed }).toEqual({ id: r.id, passed: false });
        expect({ id: r.id, codes: r.log.codes }).toEqual({
          id: r.id,
          codes: expect.arrayContaining(['NOT_IMPLEMENTED']),
        });
        expect(r.log.codes.every((c) => c === 'NOT_IMPLEMENTED')).toBe(true);
        // The kit's message names the cause.
        expect(r.error).toMatch(/NOT_IMPLEMENTED|is not implemented yet/);
      }
      const behavioural = results.filter((r) => r.kind === 'behavioural');
      expect(behavioural.length).toBe(9);
      expect(behavioural.filter((r) => r.passed)).toEqual([]);
    },
  );
});

/** ANSI colour escapes (ESC [ … m), built from the character code: no control character in a regex literal. */
const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

describe('the nx CLI', () => {
  // Plain text whatever the terminal or CI asks for (FORCE_COLOR would add ANSI escapes).
  const nx = (args: string[]) =>
    execFileSync(process.execPath, [require.resolve('nx/bin/nx.js'), ...args], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        NX_DAEMON: 'false',
        NX_NO_CLOUD: 'true',
        NX_INTERACTIVE: 'false',
        FORCE_COLOR: '0',
        NO_COLOR: '1',
      },
      encoding: 'utf8',
      stdio: 'pipe',
    }).replace(ANSI_ESCAPE, '');

  it('loads the TypeScript generator through the plugin entry (dry run)', () => {
    const name = `cli-probe-${randomBytes(3).toString('hex')}`;
    const out = nx(['g', './tools/nx-plugin:adapter', `--name=${name}`, '--dry-run']);
    const dir = `libs/connectors/${name}`;
    for (const file of [
      'project.json',
      'README.md',
      `src/${name}.adapter.ts`,
      `src/${name}.conformance.spec.ts`,
      'src/index.ts',
      `src/testing/fake-${name}.ts`,
      'src/testing/harness.ts',
      'src/testing/index.ts',
    ])
      expect(out).toContain(`CREATE ${dir}/${file}`);
    expect(out).toContain('UPDATE tsconfig.base.json');
    expect(fs.existsSync(path.join(REPO_ROOT, dir))).toBe(false);
  }, 120_000);

  it('reports a bad name and fails', () => {
    let failure: { status?: number; stdout?: string; stderr?: string } | undefined;
    try {
      nx(['g', './tools/nx-plugin:adapter', '--name=Acme_CRM', '--dry-run']);
    } catch (err) {
      failure = err as typeof failure;
    }
    expect(failure?.status).toBe(1);
    expect(`${failure?.stdout}${failure?.stderr}`).toContain(
      'Invalid adapter name "Acme_CRM": use kebab case',
    );
  }, 120_000);
});
