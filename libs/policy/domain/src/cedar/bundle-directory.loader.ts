// The only file of the Cedar layer that touches the file system: everything else works on the
// in-memory files that MongoDB stores as well.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { parseBundle } from './bundle.parser';
import type { PolicyBundle } from './policy-bundle.model';

/**
 * Reads every regular file under `dir` (recursively; dot-files and dot-directories skipped) as
 * UTF-8 text, keyed by its posix path relative to `dir`.
 */
export async function readBundleFiles(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile())
        files[relative(dir, full).split(sep).join('/')] = await readFile(full, 'utf8');
    }
  };
  await walk(dir);
  return files;
}

/** Loads a bundle from a directory; validate it (or offer it to a BundleRegistry) before use. */
export async function loadBundleDirectory(dir: string): Promise<PolicyBundle> {
  return parseBundle(await readBundleFiles(dir));
}
