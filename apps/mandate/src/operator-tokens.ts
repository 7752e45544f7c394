import { chmod, mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { generateApiToken, type ApiTokenEntry } from '@mandate/platform';

/**
 * Development operators for the embedded process when MANDATE_API_TOKENS is not set: two policy
 * admins (activating a bundle needs an approver other than its author) and a privacy officer
 * (data-subject erasure). Fresh tokens every start,
 * written to `.mandate/embedded-operators.json` (mode 0600) — never logged.
 */
export async function embeddedOperatorTokens(
  dir = path.resolve('.mandate'),
): Promise<{ entries: ApiTokenEntry[]; file: string }> {
  const operators = [
    { id: 'admin-1', roles: ['policy-admin'] },
    { id: 'admin-2', roles: ['policy-admin'] },
    { id: 'dpo-1', roles: ['privacy-officer'] },
  ].map((o) => ({ ...o, ...generateApiToken() }));
  const file = path.join(dir, 'embedded-operators.json');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(
    file,
    `${JSON.stringify(
      operators.map((o) => ({ id: o.id, roles: o.roles, token: o.token })),
      null,
      2,
    )}\n`,
    { mode: 0o600 },
  );
  await chmod(file, 0o600);
  return {
    entries: operators.map((o) => ({ id: o.id, roles: o.roles, sha256: o.sha256 })),
    file,
  };
}
