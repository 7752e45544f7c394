import type { z } from 'zod';

/**
 * The port agents use to ask a model for a step. It knows nothing of LangChain or of any
 * provider: an agent sends messages and the tools it may call, and gets back either tool calls
 * whose arguments have passed the tools' schemas, or a failure with no tool calls at all.
 */

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

/** A tool call as it appears in the conversation history (an earlier assistant turn). */
export interface ChatToolCall {
  readonly id: string;
  readonly name: string;
  readonly args: unknown;
}

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
  /** For `role: 'tool'`: the id of the assistant's tool call this message answers. */
  readonly toolCallId?: string;
  /** For `role: 'assistant'`: the tool calls that turn made. */
  readonly toolCalls?: readonly ChatToolCall[];
}

/** A tool the model may call; its arguments must pass `schema`. */
export interface ToolSpec<T = unknown, N extends string = string> {
  readonly name: N;
  readonly description: string;
  readonly schema: z.ZodType<T, z.ZodTypeDef, unknown>;
}

/** Declares a tool, keeping its name as a literal type so responses narrow on it. */
export function defineTool<const N extends string, S extends z.ZodTypeAny>(spec: {
  readonly name: N;
  readonly description: string;
  readonly schema: S;
}): ToolSpec<z.output<S>, N> {
  return spec;
}

/** A validated tool call: `args` is the schema's output type for the tool named `name`. */
export type ToolCallOf<S> =
  S extends ToolSpec<infer T, infer N>
    ? { readonly id: string; readonly name: N; readonly args: T }
    : never;

export interface ModelRequest<Tools extends readonly ToolSpec[] = readonly ToolSpec[]> {
  readonly tenantId: string;
  readonly agentId: string;
  readonly messages: readonly ChatMessage[];
  readonly tools: Tools;
  /** The step is only meaningful as a tool call: a text-only answer is a malformed answer. */
  readonly requireToolCall: boolean;
}

export interface ModelUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
}

/** Which model answered, and with which settings (never credentials). */
export interface ModelRefLike {
  readonly provider: string;
  readonly model: string;
  readonly parameters: Readonly<Record<string, string>>;
  /** True for the built-in deterministic model, which is not an LLM. */
  readonly offline: boolean;
}

export interface ModelSuccess<Tools extends readonly ToolSpec[] = readonly ToolSpec[]> {
  readonly ok: true;
  readonly toolCalls: ReadonlyArray<ToolCallOf<Tools[number]>>;
  readonly text: string;
  readonly usage: ModelUsage;
  readonly model: ModelRefLike;
  /** Model calls made for this step (retries and the repair attempt included). */
  readonly attempts: number;
  /** The first answer was malformed and the repair attempt produced this one. */
  readonly repaired: boolean;
}

export interface ModelFailure {
  readonly ok: false;
  /** `CODE: detail`; never contains prompt or completion content. */
  readonly reason: string;
  readonly usage: ModelUsage;
  readonly model: ModelRefLike;
  readonly attempts: number;
}

export type ModelResponse<Tools extends readonly ToolSpec[] = readonly ToolSpec[]> =
  ModelSuccess<Tools> | ModelFailure;

export interface ChatModelPort {
  /** Human-readable; shown wherever a proposal says which model made it. */
  readonly label: string;
  invoke<const Tools extends readonly ToolSpec[]>(
    req: ModelRequest<Tools>,
  ): Promise<ModelResponse<Tools>>;
}

/** What every model call (each attempt) reports to the accounting hook: no message contents. */
export interface ModelCallRecord {
  readonly tenantId: string;
  readonly agentId: string;
  readonly provider: string;
  readonly model: string;
  readonly region: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
  readonly latencyMs: number;
  readonly outcome: ModelCallOutcome;
  /** 1-based position of this call within the step. */
  readonly attempt: number;
  /** `repair`: the call that re-asked the model after a malformed answer. */
  readonly phase: 'initial' | 'repair';
  /** HTTP status when the provider answered with an error. */
  readonly httpStatus?: number;
}

export type ModelCallOutcome =
  'ok' | 'malformed-tool-call' | 'timeout' | 'rate-limited' | 'http-error' | 'network-error';

export type ModelCallHook = (record: ModelCallRecord) => void | Promise<void>;
