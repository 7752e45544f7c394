import { existsSync } from 'node:fs';
import * as path from 'node:path';

const RELATIVE = path.join('libs', 'policy', 'bundles', 'default');

/**
 * The repository's default policy bundle: `MANDATE_POLICY_BUNDLE_DIR` when set, else found by
 * walking up from this file (works from the sources, from dist/out-tsc and in the image, where
 * the bundle is copied next to dist/).
 */
export function defaultBundleDir(): string {
  if (process.env.MANDATE_POLICY_BUNDLE_DIR)
    return path.resolve(process.env.MANDATE_POLICY_BUNDLE_DIR);
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, RELATIVE);
    if (existsSync(path.join(candidate, 'bundle.json'))) return candidate;
    if (path.dirname(dir) === dir) return path.resolve(RELATIVE);
  }
}

/**
 * The repository's prompts/ directory: `MANDATE_PROMPTS_DIR` when set, else found by walking up
 * from this file like `defaultBundleDir`.
 */
export function defaultPromptsDir(): string {
  if (process.env.MANDATE_PROMPTS_DIR) return path.resolve(process.env.MANDATE_PROMPTS_DIR);
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'prompts');
    if (existsSync(path.join(candidate, 'lead-qualification', 'prompt.md'))) return candidate;
    if (path.dirname(dir) === dir) return path.resolve('prompts');
  }
}
