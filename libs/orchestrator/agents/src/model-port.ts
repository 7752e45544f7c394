import type { z } from 'zod';

/**
 * The slice of `@mandate/model-gateway`'s port this lib needs, declared structurally: the gateway
 * is an adapter (it holds the OpenAI client) and a domain lib may not depend on it. These types
 * are assignable to and from the gateway's (`ToolSpec`, `ModelRequest`, `OfflineResponder`); the
 * specs prove it by running every responder through the real `OfflineModel`.
 */

export interface ToolSpecLike<S extends z.ZodTypeAny = z.ZodTypeAny, N extends string = string> {
  readonly name: N;
  readonly description: string;
  readonly schema: S;
}

/** Same as the gateway's `defineTool`: keeps the name literal and the schema's type. */
export function defineAgentTool<const N extends string, S extends z.ZodTypeAny>(
  spec: ToolSpecLike<S, N>,
): ToolSpecLike<S, N> {
  return spec;
}

export interface ChatMessageLike {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content: string;
}

export interface ModelRequestLike<Tools extends readonly ToolSpecLike[] = readonly ToolSpecLike[]> {
  readonly tenantId: string;
  readonly agentId: string;
  readonly messages: readonly ChatMessageLike[];
  readonly tools: Tools;
  readonly requireToolCall: boolean;
}

/** What an offline responder answers (the gateway's `OfflineReply`). */
export type OfflineReplyLike =
  | {
      readonly toolCalls: ReadonlyArray<{ readonly name: string; readonly args: unknown }>;
      readonly text?: string;
    }
  | { readonly text: string };

/** A deterministic responder for the gateway's `OfflineModel` (offline rules, not an LLM). */
export type OfflineResponderLike = (req: ModelRequestLike) => OfflineReplyLike;

/** Token and cost accounting of one step (the gateway's `ModelUsage`). */
export interface ModelUsageLike {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
}

/** Which model answered (the gateway's `ModelRefLike`). */
export interface ModelRefLikeOfPort {
  readonly provider: string;
  readonly model: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly offline: boolean;
}

/** The gateway's `ModelResponse`: validated tool calls, or a failure with none. */
export type ModelResponseLike =
  | {
      readonly ok: true;
      readonly toolCalls: ReadonlyArray<{ readonly name: string; readonly args: unknown }>;
      readonly usage: ModelUsageLike;
      readonly model: ModelRefLikeOfPort;
      readonly attempts: number;
      readonly repaired: boolean;
    }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly usage: ModelUsageLike;
      readonly model: ModelRefLikeOfPort;
      readonly attempts: number;
    };

/**
 * The gateway's `ChatModelPort` as agents use it (both `OpenAiCompatibleGateway` and
 * `OfflineModel` satisfy it; the service passes them in).
 */
export interface AgentModelPort {
  readonly label: string;
  invoke(req: ModelRequestLike): Promise<ModelResponseLike>;
}
