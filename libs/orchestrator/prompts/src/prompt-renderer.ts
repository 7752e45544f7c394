import type { PromptRef } from '@mandate/contracts';
import { PLACEHOLDER, promptContentHash } from './prompt-content';
import { PromptIntegrityError, PromptRenderError } from './prompt.errors';
import { promptRef, type PromptVersion } from './prompt.model';

/** What goes to the model, and the reference the resulting proposal records. */
export interface RenderedPrompt {
  readonly system: string;
  readonly user: string;
  readonly ref: PromptRef;
}

export type PromptVariables = Readonly<Record<string, string>>;

type RenderableVersion = Pick<
  PromptVersion,
  'promptId' | 'version' | 'contentHash' | 'template' | 'variables'
>;

/**
 * Fills the template's `{{name}}` placeholders.
 *
 * - Strict: every declared variable must be given as a string, and nothing else may be given;
 *   all problems are reported at once (`PromptRenderError`).
 * - Verbatim: values are inserted as they are, in one pass (a value that contains `{{x}}` is not
 *   expanded again). Nothing is escaped, quoted or redacted here. Callers pass CRM data and
 *   inbound text already pseudonymised and wrapped: the agents' step passes each data variable
 *   as a whole `<<<DATA name nonce>>>` … `<<<END nonce>>>` block (`untrustedBlock`, a fresh nonce
 *   per request, so the text cannot close its own block); the seed prompts place those
 *   variables on lines of their own and describe the delimiters to the model.
 * - Honest reference: the content hash is recomputed from the template; a version whose text
 *   does not match its hash is refused (`PromptIntegrityError`), so `ref` always names the text
 *   that was rendered. Any status renders (previewing a draft is fine); agents render the
 *   version `PromptRegistry.active()` returns.
 */
export function renderPrompt(version: RenderableVersion, vars: PromptVariables): RenderedPrompt {
  if (promptContentHash(version.template, version.variables) !== version.contentHash) {
    throw new PromptIntegrityError(version.promptId, version.version);
  }
  const declared = new Set(version.variables);
  const problems: string[] = [];
  const given = vars ?? {};
  for (const name of version.variables) {
    if (!Object.prototype.hasOwnProperty.call(given, name) || given[name] === undefined) {
      problems.push(`missing variable "${name}"`);
    } else if (typeof given[name] !== 'string') {
      problems.push(`variable "${name}" must be a string (got ${typeof given[name]})`);
    }
  }
  for (const name of Object.keys(given)) {
    if (!declared.has(name)) problems.push(`undeclared variable "${name}"`);
  }
  if (problems.length > 0) throw new PromptRenderError(version.promptId, version.version, problems);

  const fill = (text: string): string =>
    text.replace(PLACEHOLDER, (_match, name: string) => given[name] as string);
  return {
    system: fill(version.template.system),
    user: fill(version.template.user),
    ref: promptRef(version),
  };
}
