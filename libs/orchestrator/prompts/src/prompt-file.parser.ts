import { validatePromptContent } from './prompt-content';
import { PromptValidationError } from './prompt.errors';
import { PROMPT_ID_PATTERN, VARIABLE_NAME_PATTERN, type PromptContent } from './prompt.model';

/** A repository prompt file, parsed and validated. */
export interface ParsedPromptFile {
  readonly promptId: string;
  /** Normalised (variables sorted), ready for `PromptRegistry.propose` / `seedPrompt`. */
  readonly content: PromptContent;
}

const FRONT_MATTER_KEYS = new Set(['id', 'description', 'variables', 'version']);
const SECTIONS = ['system', 'user'] as const;
type SectionName = (typeof SECTIONS)[number];

/**
 * Parses a `prompts/<id>/prompt.md` file:
 *
 * ```
 * ---
 * id: lead-qualification
 * description: One line saying what the prompt is for.
 * variables: [record, activity, now, tenant_rules]
 * version: free text note, e.g. "2: adds quiet hours" (optional; numbers are assigned by the registry)
 * ---
 *
 * ## system
 * …
 * ## user
 * … {{record}} …
 * ```
 *
 * Only `## system` and `## user` level-2 headings are allowed (use `###` inside a section); text
 * outside them is refused. Each section's text is taken as written, minus the blank lines around
 * it; `\r\n` becomes `\n` so a Windows checkout hashes the same. All problems are reported at
 * once (`PromptValidationError`).
 */
export function parsePromptFile(text: string): ParsedPromptFile {
  const problems: string[] = [];
  const lines = text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .split('\n');
  if (lines[0]?.trim() !== '---') {
    throw new PromptValidationError(['the file must start with a front matter block ("---")']);
  }
  const close = lines.findIndex((line, i) => i > 0 && line.trim() === '---');
  if (close < 0) throw new PromptValidationError(['the front matter block is not closed ("---")']);

  const meta = new Map<string, string>();
  lines.slice(1, close).forEach((line, i) => {
    if (line.trim() === '' || line.trim().startsWith('#')) return;
    const match = /^([A-Za-z_][A-Za-z0-9_-]*)\s*:\s*(.*)$/.exec(line);
    if (!match) {
      problems.push(`front matter line ${i + 2} is not "key: value"`);
      return;
    }
    const key = match[1] as string;
    if (!FRONT_MATTER_KEYS.has(key)) {
      problems.push(
        `unknown front matter key "${key}" (allowed: ${[...FRONT_MATTER_KEYS].join(', ')})`,
      );
    } else if (meta.has(key)) {
      problems.push(`front matter key "${key}" appears twice`);
    } else {
      meta.set(key, unquote((match[2] as string).trim()));
    }
  });

  const promptId = meta.get('id') ?? '';
  if (!PROMPT_ID_PATTERN.test(promptId)) problems.push(`id must match ${PROMPT_ID_PATTERN}`);
  const variables = parseList(meta.get('variables'), problems);

  const sections = new Map<SectionName, string[]>();
  // undefined: before the first heading; null: under a refused heading (already reported).
  let current: string[] | null | undefined;
  lines.slice(close + 1).forEach((line, i) => {
    const heading = /^##[ \t]+(.*?)\s*$/.exec(line);
    if (heading) {
      const name = heading[1] as string;
      if (!(SECTIONS as readonly string[]).includes(name)) {
        problems.push(
          `line ${close + 2 + i}: unknown section "## ${name}" (only "## system" and "## user"; use ### inside a section)`,
        );
        current = null;
      } else if (sections.has(name as SectionName)) {
        problems.push(`section "## ${name}" appears twice`);
        current = null;
      } else {
        current = [];
        sections.set(name as SectionName, current);
      }
      return;
    }
    if (current) current.push(line);
    else if (current === undefined && line.trim() !== '') {
      problems.push(`line ${close + 2 + i}: text outside the "## system" / "## user" sections`);
    }
  });
  for (const name of SECTIONS) {
    if (!sections.has(name)) problems.push(`section "## ${name}" is missing`);
  }
  if (problems.length > 0) throw new PromptValidationError(problems);

  const versionNote = meta.get('version');
  const content = validatePromptContent({
    template: {
      system: trimBlankLines(sections.get('system') ?? []),
      user: trimBlankLines(sections.get('user') ?? []),
    },
    variables,
    description: meta.get('description') ?? '',
    ...(versionNote ? { versionNote } : {}),
  });
  return { promptId, content };
}

function parseList(value: string | undefined, problems: string[]): string[] {
  if (value === undefined) {
    problems.push('variables is missing (use "variables: []" for none)');
    return [];
  }
  const match = /^\[(.*)\]$/.exec(value);
  if (!match) {
    problems.push('variables must be a list: [a, b]');
    return [];
  }
  const inner = (match[1] as string).trim();
  if (inner === '') return [];
  const names = inner.split(',').map((item) => unquote(item.trim()));
  for (const name of names) {
    if (!VARIABLE_NAME_PATTERN.test(name)) {
      problems.push(`variable name "${name}" must match ${VARIABLE_NAME_PATTERN}`);
    }
  }
  return names;
}

function unquote(value: string): string {
  const quoted = /^"(.*)"$/.exec(value) ?? /^'(.*)'$/.exec(value);
  return quoted ? (quoted[1] as string) : value;
}

function trimBlankLines(lines: readonly string[]): string {
  let start = 0;
  let end = lines.length;
  while (start < end && (lines[start] as string).trim() === '') start++;
  while (end > start && (lines[end - 1] as string).trim() === '') end--;
  return lines.slice(start, end).join('\n');
}
