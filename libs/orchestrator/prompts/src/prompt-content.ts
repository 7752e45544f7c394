import { createHash } from 'node:crypto';
import { PromptValidationError } from './prompt.errors';
import {
  MAX_DESCRIPTION_CHARS,
  MAX_PROMPT_ID_LENGTH,
  MAX_TEMPLATE_PART_CHARS,
  MAX_VARIABLES,
  PROMPT_ID_PATTERN,
  VARIABLE_NAME_PATTERN,
  type PromptContent,
  type PromptTemplate,
} from './prompt.model';

/** `{{ name }}`: the only placeholder form. Spaces inside the braces are allowed. */
export const PLACEHOLDER = /\{\{\s*([a-z][a-z0-9_]{0,63})\s*\}\}/g;

/** Version tag of the canonical encoding; changing the encoding means a new tag. */
export const CANONICAL_ENCODING = 'mandate.prompt.v1';

const TEMPLATE_PARTS = ['system', 'user'] as const;

/** Placeholder names used in a text, in order of appearance, with repetitions. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/**
 * The bytes that are hashed: UTF-8 of the JSON array
 * `["mandate.prompt.v1", system, user, [variables sorted by code point]]`.
 * Template text is taken exactly as given (any whitespace change is a new hash); the variable
 * list is a set, so its order does not count. Metadata (description, note, author, dates)
 * is not content. The prompt id is not part of it either: a `PromptRef` carries the id beside
 * the hash, and content addressing (deduplication) is per prompt id.
 */
export function canonicalPromptEncoding(
  template: PromptTemplate,
  variables: readonly string[],
): string {
  return JSON.stringify([CANONICAL_ENCODING, template.system, template.user, sortedSet(variables)]);
}

/** `sha256:` + lower-case hex digest of `canonicalPromptEncoding`. */
export function promptContentHash(template: PromptTemplate, variables: readonly string[]): string {
  const digest = createHash('sha256')
    .update(canonicalPromptEncoding(template, variables), 'utf8')
    .digest('hex');
  return `sha256:${digest}`;
}

export function assertPromptId(promptId: unknown): asserts promptId is string {
  if (
    typeof promptId !== 'string' ||
    promptId.length > MAX_PROMPT_ID_LENGTH ||
    !PROMPT_ID_PATTERN.test(promptId)
  ) {
    throw new PromptValidationError([
      `prompt id must match ${PROMPT_ID_PATTERN} and have at most ${MAX_PROMPT_ID_LENGTH} characters`,
    ]);
  }
}

/**
 * Checks proposed content and returns it normalised (variables sorted; description trimmed).
 * Strict on purpose: the declared variables must be exactly the placeholders the template
 * uses, and a `{{` that is not a well-formed placeholder is refused, so a typo can neither
 * leave a literal `{{recrod}}` in front of the model nor silently drop a variable.
 */
export function validatePromptContent(content: PromptContent): PromptContent {
  const problems: string[] = [];
  const template = (content as { template?: unknown })?.template as
    Partial<Record<(typeof TEMPLATE_PARTS)[number], unknown>> | undefined;
  const used = new Set<string>();
  for (const part of TEMPLATE_PARTS) {
    const text = template?.[part];
    if (typeof text !== 'string' || text.trim().length === 0) {
      problems.push(`template.${part} must be a non-empty string`);
      continue;
    }
    if (text.length > MAX_TEMPLATE_PART_CHARS) {
      problems.push(`template.${part} is longer than ${MAX_TEMPLATE_PART_CHARS} characters`);
    }
    if (text.includes('\0')) problems.push(`template.${part} contains a NUL character`);
    for (const name of placeholdersIn(text)) used.add(name);
    if (text.replace(PLACEHOLDER, '').includes('{{')) {
      problems.push(
        `template.${part} has a "{{" that is not a placeholder {{lower_snake_case_name}}`,
      );
    }
  }

  const variables: unknown = content?.variables;
  const declared = new Set<string>();
  if (!Array.isArray(variables)) {
    problems.push('variables must be an array of names');
  } else {
    if (variables.length > MAX_VARIABLES)
      problems.push(`at most ${MAX_VARIABLES} variables are allowed`);
    for (const name of variables) {
      if (typeof name !== 'string' || !VARIABLE_NAME_PATTERN.test(name)) {
        problems.push(`variable name ${JSON.stringify(name)} must match ${VARIABLE_NAME_PATTERN}`);
      } else if (declared.has(name)) {
        problems.push(`variable "${name}" is declared twice`);
      } else {
        declared.add(name);
      }
    }
    for (const name of used) {
      if (!declared.has(name)) problems.push(`placeholder {{${name}}} is not a declared variable`);
    }
    for (const name of declared) {
      if (!used.has(name)) problems.push(`variable "${name}" is declared but never used`);
    }
  }

  const description: unknown = content?.description;
  if (typeof description !== 'string' || description.trim().length === 0) {
    problems.push('description must be a non-empty string');
  } else if (description.length > MAX_DESCRIPTION_CHARS) {
    problems.push(`description is longer than ${MAX_DESCRIPTION_CHARS} characters`);
  }
  const note: unknown = content?.versionNote;
  if (note !== undefined && (typeof note !== 'string' || note.length > MAX_DESCRIPTION_CHARS)) {
    problems.push(`versionNote must be a string of at most ${MAX_DESCRIPTION_CHARS} characters`);
  }
  if (problems.length > 0) throw new PromptValidationError(problems);

  const normalised: PromptContent = {
    template: { system: template?.system as string, user: template?.user as string },
    variables: sortedSet(declared),
    description: (description as string).trim(),
  };
  const trimmedNote = typeof note === 'string' ? note.trim() : '';
  return trimmedNote === '' ? normalised : { ...normalised, versionNote: trimmedNote };
}

function sortedSet(names: Iterable<string>): string[] {
  // Code point order (not locale order), so the encoding is the same on every machine.
  return [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
