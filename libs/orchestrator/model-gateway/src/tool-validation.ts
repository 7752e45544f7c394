import type { ToolCallOf, ToolSpec } from './port';

/**
 * Validation of a model's tool calls against the declared tools, shared by every model behind
 * the port (the OpenAI-compatible gateway and the offline model).
 *
 * Two renderings of the problems exist on purpose:
 * - `describeProblemsForModel` goes back to the model that produced the call (repair attempt);
 *   it may quote the schema's messages;
 * - `summarizeProblems` goes into failure reasons and logs; it contains only declared tool
 *   names, argument paths and issue codes, never anything the model wrote.
 */

/** A tool call as a model produced it, before validation. */
export type RawToolCall = {
  readonly id?: string;
  readonly name: string;
} & (
  | {
      /** JSON text, as the OpenAI protocol carries arguments. */
      readonly argsText: string;
    }
  | {
      /** An already-structured value (the offline model). */
      readonly args: unknown;
    }
);

export interface ToolCallIssue {
  /** Argument path, `$` for the arguments object itself. */
  readonly path: string;
  readonly code: string;
  /** The schema's message; may quote model output, so only ever sent back to the model. */
  readonly message: string;
}

export type ToolCallProblemKind =
  'unknown-tool' | 'invalid-json' | 'invalid-args' | 'missing-tool-call';

export interface ToolCallProblem {
  readonly kind: ToolCallProblemKind;
  /** Index of the call in the model's answer (absent for `missing-tool-call`). */
  readonly index?: number;
  readonly id?: string;
  /** The tool's name, only when it is a declared tool. */
  readonly tool?: string;
  readonly issues: readonly ToolCallIssue[];
}

export type ToolCallValidation<Tools extends readonly ToolSpec[]> =
  | { readonly ok: true; readonly calls: Array<ToolCallOf<Tools[number]>> }
  | { readonly ok: false; readonly problems: readonly ToolCallProblem[] };

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Throws (a programming error, not a model error) when the declared tools are unusable. */
export function assertToolSpecs(tools: readonly ToolSpec[], requireToolCall: boolean): void {
  const seen = new Set<string>();
  for (const tool of tools) {
    if (!TOOL_NAME.test(tool.name)) {
      throw new TypeError(
        `model-gateway: tool name "${tool.name}" must match ${TOOL_NAME.source} (OpenAI function names)`,
      );
    }
    if (seen.has(tool.name)) {
      throw new TypeError(`model-gateway: tool "${tool.name}" is declared twice`);
    }
    seen.add(tool.name);
  }
  if (requireToolCall && tools.length === 0) {
    throw new TypeError('model-gateway: requireToolCall is set but no tools are declared');
  }
}

export function validateToolCalls<const Tools extends readonly ToolSpec[]>(
  tools: Tools,
  calls: readonly RawToolCall[],
  requireToolCall: boolean,
  makeId: (index: number) => string = (index) => `call_${index + 1}`,
): ToolCallValidation<Tools> {
  const problems: ToolCallProblem[] = [];
  const valid: Array<ToolCallOf<Tools[number]>> = [];
  if (requireToolCall && calls.length === 0) {
    problems.push({
      kind: 'missing-tool-call',
      issues: [
        {
          path: '$',
          code: 'missing_tool_call',
          message: `This step requires a tool call; call one of: ${tools.map((t) => t.name).join(', ')}.`,
        },
      ],
    });
  }
  calls.forEach((call, index) => {
    const where = { index, ...(call.id !== undefined ? { id: call.id } : {}) };
    const tool = tools.find((t) => t.name === call.name);
    if (!tool) {
      problems.push({
        ...where,
        kind: 'unknown-tool',
        issues: [
          {
            path: '$',
            code: 'unknown_tool',
            message: `No tool with this name is available; the tools are: ${tools.map((t) => t.name).join(', ') || '(none)'}.`,
          },
        ],
      });
      return;
    }
    let value: unknown;
    if ('argsText' in call) {
      try {
        value = JSON.parse(call.argsText === '' ? '{}' : call.argsText);
      } catch {
        problems.push({
          ...where,
          kind: 'invalid-json',
          tool: tool.name,
          issues: [
            {
              path: '$',
              code: 'invalid_json',
              message: 'The arguments are not valid JSON; send a single JSON object.',
            },
          ],
        });
        return;
      }
    } else {
      value = call.args;
    }
    const parsed = tool.schema.safeParse(value);
    if (!parsed.success) {
      problems.push({
        ...where,
        kind: 'invalid-args',
        tool: tool.name,
        issues: parsed.error.issues.map((issue) => ({
          path: issue.path.length ? issue.path.join('.') : '$',
          code: issue.code,
          message: issue.message,
        })),
      });
      return;
    }
    valid.push({
      id: call.id ?? makeId(index),
      name: tool.name,
      args: parsed.data,
    } as ToolCallOf<Tools[number]>);
  });
  return problems.length ? { ok: false, problems } : { ok: true, calls: valid };
}

/** For the repair message to the model: what was wrong with one call (or the turn). */
export function describeProblemForModel(problem: ToolCallProblem): string {
  const head =
    problem.kind === 'missing-tool-call'
      ? 'No tool was called.'
      : problem.kind === 'unknown-tool'
        ? 'Invalid tool call: unknown tool.'
        : `Invalid tool call to ${problem.tool}:`;
  const lines = problem.issues.map((i) => `- ${i.path}: ${i.message}`);
  return [head, ...lines].join('\n');
}

/** For failure reasons and logs: declared tool names, paths and issue codes only. */
export function summarizeProblems(problems: readonly ToolCallProblem[]): string {
  return problems
    .map((p) => {
      const subject =
        p.kind === 'missing-tool-call'
          ? 'no tool call'
          : p.kind === 'unknown-tool'
            ? `call #${(p.index ?? 0) + 1}: unknown tool`
            : `call #${(p.index ?? 0) + 1} (${p.tool})`;
      if (p.kind === 'missing-tool-call' || p.kind === 'unknown-tool') return subject;
      const issues = p.issues.map((i) => `${safePath(i.path)} ${i.code}`).join(', ');
      return `${subject}: ${issues}`;
    })
    .join('; ');
}

/** Record keys in a path come from the model: anything that is not a plain identifier is elided. */
function safePath(path: string): string {
  return path
    .split('.')
    .map((segment) => (/^[A-Za-z0-9_$]{1,64}$/.test(segment) ? segment : '*'))
    .join('.');
}
