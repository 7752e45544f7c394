import type {
  ChatModelPort,
  ModelCallHook,
  ModelRefLike,
  ModelRequest,
  ModelResponse,
  ToolSpec,
} from './port';
import { assertToolSpecs, summarizeProblems, validateToolCalls } from './tool-validation';

/**
 * The built-in offline model, the embedded default: a deterministic function of the request,
 * supplied by each agent. It is NOT an LLM and says so in its label and model reference. Its
 * tool calls go through the same validation as a real model's; since it is deterministic, a
 * malformed answer is not re-asked (the repair would produce the same answer): the step fails
 * safe at once. It costs nothing and counts no tokens.
 */

export const OFFLINE_MODEL_LABEL = 'offline rules (not an LLM)';

export const OFFLINE_MODEL_REF: ModelRefLike = Object.freeze({
  provider: 'offline',
  model: 'mandate-offline-1',
  parameters: Object.freeze({ kind: 'deterministic rules' }),
  offline: true,
});

/** What a responder answers: tool calls (with optional text), or text only. */
export type OfflineReply =
  | {
      readonly toolCalls: ReadonlyArray<{ readonly name: string; readonly args: unknown }>;
      readonly text?: string;
    }
  | { readonly text: string };

/** Must be a pure function of the request: same request, same reply. */
export type OfflineResponder = (req: ModelRequest) => OfflineReply;

export interface OfflineModelOptions {
  /** Accounting, as for the gateway (zero tokens, zero cost, region `local`). */
  readonly onCall?: ModelCallHook;
}

export class OfflineModel implements ChatModelPort {
  readonly label = OFFLINE_MODEL_LABEL;
  readonly model = OFFLINE_MODEL_REF;

  constructor(
    private readonly respond: OfflineResponder,
    private readonly options: OfflineModelOptions = {},
  ) {}

  async invoke<const Tools extends readonly ToolSpec[]>(
    req: ModelRequest<Tools>,
  ): Promise<ModelResponse<Tools>> {
    assertToolSpecs(req.tools, req.requireToolCall);
    const started = performance.now();
    // A throwing responder is a bug in the agent's rules: it propagates.
    const reply = this.respond(req);
    const calls = 'toolCalls' in reply ? reply.toolCalls : [];
    const checked = validateToolCalls(
      req.tools,
      calls.map((c) => ({ name: c.name, args: c.args })),
      req.requireToolCall,
      (index) => `offline_call_${index + 1}`,
    );
    const usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
    await this.options.onCall?.({
      tenantId: req.tenantId,
      agentId: req.agentId,
      provider: OFFLINE_MODEL_REF.provider,
      model: OFFLINE_MODEL_REF.model,
      region: 'local',
      ...usage,
      latencyMs: Math.round(performance.now() - started),
      outcome: checked.ok ? 'ok' : 'malformed-tool-call',
      attempt: 1,
      phase: 'initial',
    });
    if (!checked.ok) {
      return {
        ok: false,
        reason: `MALFORMED_TOOL_CALL: ${summarizeProblems(checked.problems)}`,
        usage,
        model: OFFLINE_MODEL_REF,
        attempts: 1,
      };
    }
    return {
      ok: true,
      toolCalls: checked.calls,
      text: reply.text ?? '',
      usage,
      model: OFFLINE_MODEL_REF,
      attempts: 1,
      repaired: false,
    };
  }
}
