import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePromptFile, type ParsedPromptFile } from './prompt-file.parser';
import type { PromptRegistry, PromptSeedResult } from './prompt-registry';
import { PromptSeedError, PromptValidationError } from './prompt.errors';

/** Each prompt lives in `<dir>/<prompt-id>/prompt.md`. */
export const PROMPT_FILE_NAME = 'prompt.md';

/**
 * Reads and validates every `<dir>/<id>/prompt.md` (sub-directories in name order; files
 * directly in `dir`, such as a README, and hidden entries are ignored). The directory name must
 * equal the file's `id`. Every problem in every file is reported at once (`PromptSeedError`).
 */
export async function loadPromptDirectory(dir: string): Promise<ParsedPromptFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new PromptSeedError([`cannot read the prompt directory ${dir}`], { cause: err });
  }
  const names = entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  const problems: string[] = [];
  const parsed: ParsedPromptFile[] = [];
  for (const name of names) {
    const path = join(dir, name, PROMPT_FILE_NAME);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      problems.push(`${name}/${PROMPT_FILE_NAME}: cannot be read (${describe(err)})`);
      continue;
    }
    try {
      const file = parsePromptFile(text);
      if (file.promptId !== name) {
        problems.push(
          `${name}/${PROMPT_FILE_NAME}: id "${file.promptId}" differs from its directory`,
        );
      } else {
        parsed.push(file);
      }
    } catch (err) {
      if (!(err instanceof PromptValidationError)) throw err;
      problems.push(...err.problems.map((p) => `${name}/${PROMPT_FILE_NAME}: ${p}`));
    }
  }
  if (problems.length > 0) throw new PromptSeedError(problems);
  return parsed;
}

/**
 * Seeds the registry from the repository's prompt directory (see `PromptRegistry.seedPrompt`):
 * new prompt ids are bootstrapped (version 1 by `repository`, approved and activated by
 * `repository-seed`); a file that differs from the active version becomes a draft, never the
 * active version. Every file is validated before anything is written. Idempotent: running it
 * again changes nothing.
 */
export async function seedFromDirectory(
  registry: PromptRegistry,
  dir: string,
): Promise<PromptSeedResult[]> {
  const files = await loadPromptDirectory(dir);
  const results: PromptSeedResult[] = [];
  for (const file of files) results.push(await registry.seedPrompt(file.promptId, file.content));
  return results;
}

function describe(err: unknown): string {
  return (err as { code?: unknown })?.code ? String((err as { code: unknown }).code) : String(err);
}
