import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/**
 * Proves the module-boundary rules in eslint.config.mjs are enforced, not just declared: each
 * case lints a snippet as if it were a file inside a project and expects the rule to fire.
 */
const ROOT = path.resolve(__dirname, '..', '..');

describe('module boundaries', () => {
  beforeAll(() => {
    // The boundary rule reads Nx's project graph; without it the rule silently skips.
    execFileSync(process.execPath, [require.resolve('nx/bin/nx.js'), 'show', 'projects'], {
      cwd: ROOT,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      stdio: 'ignore',
    });
  }, 120_000);

  // The ESLint CLI in a child process: its flat config is ESM, which Jest's CommonJS VM cannot load.
  async function boundaryErrors(file: string, code: string): Promise<string[]> {
    let out: string;
    try {
      out = execFileSync(
        process.execPath,
        [
          path.join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'),
          '--format',
          'json',
          '--stdin',
          '--stdin-filename',
          file,
        ],
        {
          cwd: ROOT,
          input: code,
          encoding: 'utf8',
        },
      );
    } catch (err) {
      out = (err as { stdout?: string }).stdout ?? '';
      if (!out) throw err;
    }
    const [result] = JSON.parse(out) as Array<{
      messages: Array<{ ruleId: string | null; message: string }>;
    }>;
    return result.messages
      .filter((m) => m.ruleId === '@nx/enforce-module-boundaries')
      .map((m) => m.message);
  }

  it('keeps Nest out of domain libs', async () => {
    const errors = await boundaryErrors(
      'libs/policy/domain/src/x.ts',
      "import { Injectable } from '@nestjs/common';\nexport const x = Injectable;\n",
    );
    expect(errors.join('\n')).toMatch(/@nestjs\/common/);
  });

  it('keeps database and broker drivers out of domain libs', async () => {
    expect(
      (
        await boundaryErrors(
          'libs/ledger/domain/src/x.ts',
          "import { MongoClient } from 'mongodb';\nexport const x = MongoClient;\n",
        )
      ).length,
    ).toBe(1);
    expect(
      (
        await boundaryErrors(
          'libs/messaging/core/src/x.ts',
          "import { Kafka } from 'kafkajs';\nexport const x = Kafka;\n",
        )
      ).length,
    ).toBe(1);
  });

  it('lets contracts import no other project', async () => {
    const errors = await boundaryErrors(
      'libs/contracts/src/x.ts',
      "import { tenantId } from '@mandate/storage';\nexport const x = tenantId;\n",
    );
    expect(errors.length).toBe(1);
  });

  it("stops a service from importing another service's libs", async () => {
    const errors = await boundaryErrors(
      'libs/policy/service/src/x.ts',
      "import { ActionExecutor } from '@mandate/connectors-domain';\nexport const x = ActionExecutor;\n",
    );
    expect(errors.join('\n')).toMatch(/scope:policy/);
  });

  it("stops an app from importing another app's scope", async () => {
    const errors = await boundaryErrors(
      'apps/policy/src/x.ts',
      "import { LedgerReader } from '@mandate/ledger-domain';\nexport const x = LedgerReader;\n",
    );
    expect(errors.length).toBe(1);
  });

  it('lets the embedded process compose every service', async () => {
    const errors = await boundaryErrors(
      'apps/mandate/src/x.ts',
      "import { LedgerServiceModule } from '@mandate/ledger-service';\nimport { PolicyServiceModule } from '@mandate/policy-service';\nexport const x = [LedgerServiceModule, PolicyServiceModule];\n",
    );
    expect(errors).toEqual([]);
  });
});
