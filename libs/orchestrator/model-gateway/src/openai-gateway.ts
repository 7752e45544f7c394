import {
  AIMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
  type BaseMessage,
} from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import { GatewayConfigError, parseGatewayConfig, type GatewayConfig, type Route } from './config';
import type {
  ChatMessage,
  ChatModelPort,
  ModelCallHook,
  ModelCallOutcome,
  ModelRefLike,
  ModelRequest,
  ModelResponse,
  ModelSuccess,
  ModelUsage,
  ToolSpec,
} from './port';
import { RouteViolationError, routeFetch, type AuthScheme } from './route-fetch';
import {
  assertToolSpecs,
  describeProblemForModel,
  summarizeProblems,
  validateToolCalls,
  type RawToolCall,
  type ToolCallProblem,
} from './tool-validation';

/**
 * The orchestrator's model gateway for OpenAI-compatible chat-completions endpoints (OpenAI,
 * Azure OpenAI, vLLM, Ollama, others), through LangChain's ChatOpenAI.
 *
 * - Routing: a tenant's calls go to its own route (data residency) or to the default one; each
 *   route's client may only reach its own `…/chat/completions` URL.
 * - Retries are the gateway's own (ChatOpenAI's are off): bounded by the route's `maxRetries`,
 *   exponential backoff with jitter, `Retry-After` honoured on 429/503.
 * - Every tool call is validated against its schema; a malformed answer gets one repair attempt,
 *   then the step fails safe (`ok: false`, no tool calls).
 * - Every model call is reported to `onCall` (tokens, cost, latency, outcome; no contents).
 */

export interface RetryPolicy {
  /** First backoff delay; doubles on each retry (with ±20 % jitter). Default 500 ms. */
  readonly baseDelayMs?: number;
  /** Backoff ceiling. Default 8 s. */
  readonly maxDelayMs?: number;
  /** A longer `Retry-After` is not waited for: the step fails instead. Default 30 s. */
  readonly maxRetryAfterMs?: number;
}

export interface GatewayOptions {
  readonly config: GatewayConfig;
  /** Where `apiKeyEnv` names are looked up, once, at construction. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Accounting: called for every model call, including retries and the repair attempt. */
  readonly onCall?: ModelCallHook;
  readonly retry?: RetryPolicy;
}

/** What a route is, for diagnostics: no key, no path, no query. */
export interface RouteDescription {
  readonly route: string;
  readonly provider: string;
  readonly model: string;
  readonly region: string;
  readonly endpointHost: string;
}

/**
 * Settings under which LangChain or the OpenAI SDK would copy prompts somewhere (tracing to
 * LangSmith, verbose console logging) or add headers from the environment to every request.
 */
const AMBIENT_LEAKS: ReadonlyArray<{ name: string; leaks: (value: string) => boolean }> = [
  { name: 'LANGSMITH_TRACING', leaks: (v) => v === 'true' },
  { name: 'LANGSMITH_TRACING_V2', leaks: (v) => v === 'true' },
  { name: 'LANGCHAIN_TRACING', leaks: (v) => v === 'true' },
  { name: 'LANGCHAIN_TRACING_V2', leaks: (v) => v === 'true' },
  { name: 'LANGCHAIN_VERBOSE', leaks: (v) => v === 'true' },
  { name: 'OPENAI_CUSTOM_HEADERS', leaks: (v) => v.trim() !== '' },
];

const NO_KEY_PLACEHOLDER = 'no-key-configured';

interface RouteRuntime {
  readonly name: string;
  readonly route: Route;
  readonly chat: ChatOpenAI;
  readonly ref: ModelRefLike;
  readonly endpointHost: string;
}

interface CallContext {
  readonly req: ModelRequest<readonly ToolSpec[]>;
  readonly rt: RouteRuntime;
  attempts: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** What the gateway reads from ChatOpenAI's answer (an AIMessage, typed as a chunk). */
type Answer = Pick<
  AIMessage,
  'content' | 'text' | 'tool_calls' | 'invalid_tool_calls' | 'additional_kwargs' | 'usage_metadata'
>;

type RoundResult =
  | {
      readonly ok: true;
      readonly message: Answer;
      readonly latencyMs: number;
      readonly tokens: Tokens;
    }
  | { readonly ok: false; readonly reason: string };

interface Tokens {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
}

interface TransportFailure {
  readonly outcome: Exclude<ModelCallOutcome, 'ok' | 'malformed-tool-call'>;
  readonly status?: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
}

export class OpenAiCompatibleGateway implements ChatModelPort {
  readonly label: string;
  private readonly defaultRoute: RouteRuntime;
  private readonly tenantRoutes = new Map<string, RouteRuntime>();
  private readonly onCall?: ModelCallHook;
  private readonly retry: Required<RetryPolicy>;

  constructor(options: GatewayOptions) {
    assertNoAmbientLeaks(process.env);
    const env = options.env ?? process.env;
    // Re-validated: a hand-built object gets the same checks as parsed JSON.
    const config = parseGatewayConfig(options.config);
    const problems: string[] = [];
    const build = (name: string, route: Route): RouteRuntime | undefined => {
      try {
        return buildRoute(name, route, env);
      } catch (error) {
        if (error instanceof GatewayConfigError) {
          problems.push(...error.issues);
          return undefined;
        }
        throw error;
      }
    };
    const defaultRoute = build('routes.default', config.routes.default);
    for (const [tenant, route] of Object.entries(config.routes.tenants ?? {})) {
      const rt = build(`routes.tenants.${tenant}`, route);
      if (rt) this.tenantRoutes.set(tenant, rt);
    }
    if (problems.length || !defaultRoute) throw new GatewayConfigError(problems);
    this.defaultRoute = defaultRoute;
    this.onCall = options.onCall;
    this.retry = {
      baseDelayMs: options.retry?.baseDelayMs ?? 500,
      maxDelayMs: options.retry?.maxDelayMs ?? 8_000,
      maxRetryAfterMs: options.retry?.maxRetryAfterMs ?? 30_000,
    };
    const d = defaultRoute.route;
    this.label = `OpenAI-compatible gateway (default ${d.provider} ${d.model}, region ${d.region})`;
  }

  /** The route a tenant's calls take. */
  describeRoute(tenantId: string): RouteDescription {
    const rt = this.routeFor(tenantId);
    return {
      route: rt.name,
      provider: rt.route.provider,
      model: rt.route.model,
      region: rt.route.region,
      endpointHost: rt.endpointHost,
    };
  }

  async invoke<const Tools extends readonly ToolSpec[]>(
    req: ModelRequest<Tools>,
  ): Promise<ModelResponse<Tools>> {
    // Checked again per call: LangChain reads these variables on every invocation.
    assertNoAmbientLeaks(process.env);
    assertToolSpecs(req.tools, req.requireToolCall);
    const rt = this.routeFor(req.tenantId);
    const ctx: CallContext = {
      req,
      rt,
      attempts: 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
    };
    const model = this.bindModel(rt, req.tools, req.requireToolCall);
    const conversation = req.messages.map(toLangChain);

    const first = await this.round(ctx, model, conversation, 'initial');
    if (!first.ok) return this.failure(ctx, first.reason);
    const firstRaw = rawToolCalls(first.message);
    const firstCheck = validateToolCalls(req.tools, firstRaw, req.requireToolCall);
    await this.report(ctx, 'initial', firstCheck.ok ? 'ok' : 'malformed-tool-call', first);
    if (firstCheck.ok) {
      return this.success(ctx, firstCheck.calls, textOf(first.message), false);
    }

    const repairConversation = [
      ...conversation,
      ...repairTurn(first.message, firstRaw, firstCheck.problems),
    ];
    const second = await this.round(ctx, model, repairConversation, 'repair');
    if (!second.ok) return this.failure(ctx, second.reason);
    const secondCheck = validateToolCalls(
      req.tools,
      rawToolCalls(second.message),
      req.requireToolCall,
    );
    await this.report(ctx, 'repair', secondCheck.ok ? 'ok' : 'malformed-tool-call', second);
    if (secondCheck.ok) {
      return this.success(ctx, secondCheck.calls, textOf(second.message), true);
    }
    return this.failure(ctx, `MALFORMED_TOOL_CALL: ${summarizeProblems(secondCheck.problems)}`);
  }

  private routeFor(tenantId: string): RouteRuntime {
    return this.tenantRoutes.get(tenantId) ?? this.defaultRoute;
  }

  private bindModel(rt: RouteRuntime, tools: readonly ToolSpec[], requireToolCall: boolean) {
    if (tools.length === 0) return rt.chat;
    const choice = requireToolCall ? (rt.route.toolChoice ?? 'required') : 'auto';
    return rt.chat.bindTools(
      tools.map((t) => ({ name: t.name, description: t.description, schema: t.schema })),
      { tool_choice: choice },
    );
  }

  /** One model call, retried on transient failures. */
  private async round(
    ctx: CallContext,
    model: Pick<ChatOpenAI, 'invoke'>,
    messages: BaseMessage[],
    phase: 'initial' | 'repair',
  ): Promise<RoundResult> {
    const { route } = ctx.rt;
    for (let retry = 0; ; retry++) {
      ctx.attempts++;
      const started = performance.now();
      const deadline = AbortSignal.timeout(route.timeoutMs);
      try {
        const message = await model.invoke(messages, { signal: deadline });
        const latencyMs = Math.round(performance.now() - started);
        const usage = message.usage_metadata;
        const inputTokens = usage?.input_tokens ?? 0;
        const outputTokens = usage?.output_tokens ?? 0;
        const tokens = {
          inputTokens,
          outputTokens,
          costUsd: costOf(route, inputTokens, outputTokens),
        };
        return { ok: true, message, latencyMs, tokens };
      } catch (error) {
        const failure = classify(error, deadline);
        const latencyMs = Math.round(performance.now() - started);
        await this.emit(ctx, phase, failure.outcome, latencyMs, ZERO_TOKENS, failure.status);
        const attemptsThisRound = retry + 1;
        if (!failure.retryable || retry >= route.maxRetries) {
          return { ok: false, reason: reasonFor(failure, attemptsThisRound, route) };
        }
        if (
          failure.retryAfterMs !== undefined &&
          failure.retryAfterMs > this.retry.maxRetryAfterMs
        ) {
          return {
            ok: false,
            reason: `${codeFor(failure)}: HTTP ${failure.status} asked to retry after ${Math.ceil(
              failure.retryAfterMs / 1000,
            )} s, beyond the ${Math.ceil(this.retry.maxRetryAfterMs / 1000)} s limit (${attemptsThisRound} attempt(s))`,
          };
        }
        await sleep(failure.retryAfterMs ?? this.backoff(retry));
      }
    }
  }

  private backoff(retry: number): number {
    const exponential = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** retry);
    return Math.round(exponential * (0.8 + Math.random() * 0.4));
  }

  private async report(
    ctx: CallContext,
    phase: 'initial' | 'repair',
    outcome: ModelCallOutcome,
    result: Extract<RoundResult, { ok: true }>,
  ): Promise<void> {
    await this.emit(ctx, phase, outcome, result.latencyMs, result.tokens);
  }

  private async emit(
    ctx: CallContext,
    phase: 'initial' | 'repair',
    outcome: ModelCallOutcome,
    latencyMs: number,
    tokens: Tokens,
    httpStatus?: number,
  ): Promise<void> {
    ctx.inputTokens += tokens.inputTokens;
    ctx.outputTokens += tokens.outputTokens;
    ctx.costUsd += tokens.costUsd;
    const { route } = ctx.rt;
    // Errors from the hook propagate: a step whose cost could not be accounted is not served.
    await this.onCall?.({
      tenantId: ctx.req.tenantId,
      agentId: ctx.req.agentId,
      provider: route.provider,
      model: route.model,
      region: route.region,
      inputTokens: tokens.inputTokens,
      outputTokens: tokens.outputTokens,
      costUsd: tokens.costUsd,
      latencyMs,
      outcome,
      attempt: ctx.attempts,
      phase,
      ...(httpStatus !== undefined ? { httpStatus } : {}),
    });
  }

  private usage(ctx: CallContext): ModelUsage {
    return {
      inputTokens: ctx.inputTokens,
      outputTokens: ctx.outputTokens,
      costUsd: roundUsd(ctx.costUsd),
    };
  }

  private success<Tools extends readonly ToolSpec[]>(
    ctx: CallContext,
    toolCalls: ModelSuccess<Tools>['toolCalls'],
    text: string,
    repaired: boolean,
  ): ModelResponse<Tools> {
    return {
      ok: true,
      toolCalls,
      text,
      usage: this.usage(ctx),
      model: ctx.rt.ref,
      attempts: ctx.attempts,
      repaired,
    };
  }

  private failure<Tools extends readonly ToolSpec[]>(
    ctx: CallContext,
    reason: string,
  ): ModelResponse<Tools> {
    return {
      ok: false,
      reason,
      usage: this.usage(ctx),
      model: ctx.rt.ref,
      attempts: ctx.attempts,
    };
  }
}

const ZERO_TOKENS: Tokens = { inputTokens: 0, outputTokens: 0, costUsd: 0 };

function assertNoAmbientLeaks(env: Readonly<Record<string, string | undefined>>): void {
  const set = AMBIENT_LEAKS.filter(({ name, leaks }) => {
    const value = env[name];
    return value !== undefined && leaks(value);
  }).map(({ name }) => name);
  if (set.length) {
    throw new GatewayConfigError(
      set.map(
        (name) =>
          `environment variable ${name} is set: LangChain/OpenAI would copy prompts or add headers outside the gateway's control; unset it`,
      ),
    );
  }
}

function buildRoute(
  name: string,
  route: Route,
  env: Readonly<Record<string, string | undefined>>,
): RouteRuntime {
  let key: string | undefined;
  if (route.apiKeyEnv !== undefined) {
    key = env[route.apiKeyEnv];
    if (key === undefined || key.trim() === '') {
      throw new GatewayConfigError([
        `${name}.apiKeyEnv: environment variable ${route.apiKeyEnv} is not set`,
      ]);
    }
  }
  const endpoint = new URL(route.baseUrl);
  const scheme: AuthScheme =
    key === undefined ? 'none' : route.provider === 'azure-openai' ? 'api-key' : 'bearer';
  const allowed = `${endpoint.origin}${endpoint.pathname.replace(/\/+$/, '')}/chat/completions`;
  const chat = new ChatOpenAI({
    model: route.model,
    apiKey: key ?? NO_KEY_PLACEHOLDER,
    ...(route.temperature !== undefined ? { temperature: route.temperature } : {}),
    ...(route.maxTokens !== undefined ? { maxTokens: route.maxTokens } : {}),
    timeout: route.timeoutMs,
    // Retries are the gateway's (bounded, Retry-After aware, each one accounted).
    maxRetries: 0,
    streaming: false,
    useResponsesApi: false,
    configuration: {
      baseURL: route.baseUrl,
      // Without these the OpenAI SDK reads OPENAI_ORG_ID / OPENAI_PROJECT_ID / OPENAI_LOG.
      organization: null,
      project: null,
      logLevel: 'warn',
      ...(route.apiVersion !== undefined
        ? { defaultQuery: { 'api-version': route.apiVersion } }
        : {}),
      fetch: routeFetch(name, allowed, scheme, key),
    },
  });
  const parameters: Record<string, string> = {
    region: route.region,
    endpointHost: endpoint.host,
  };
  if (route.temperature !== undefined) parameters['temperature'] = String(route.temperature);
  if (route.maxTokens !== undefined) parameters['maxTokens'] = String(route.maxTokens);
  if (route.apiVersion !== undefined) parameters['apiVersion'] = route.apiVersion;
  return {
    name,
    route,
    chat,
    endpointHost: endpoint.host,
    ref: { provider: route.provider, model: route.model, parameters, offline: false },
  };
}

function toLangChain(message: ChatMessage): BaseMessage {
  switch (message.role) {
    case 'system':
      return new SystemMessage(message.content);
    case 'user':
      return new HumanMessage(message.content);
    case 'assistant':
      return new AIMessage({
        content: message.content,
        tool_calls: (message.toolCalls ?? []).map((c) => ({
          id: c.id,
          name: c.name,
          args: (c.args ?? {}) as Record<string, unknown>,
          type: 'tool_call' as const,
        })),
      });
    case 'tool':
      if (message.toolCallId === undefined) {
        throw new TypeError('model-gateway: a tool message needs the toolCallId it answers');
      }
      return new ToolMessage({ content: message.content, tool_call_id: message.toolCallId });
  }
}

interface OpenAiToolCallShape {
  readonly id?: string;
  readonly function?: { readonly name?: string; readonly arguments?: string };
}

/** The tool calls exactly as the endpoint sent them (arguments as JSON text), in order. */
function rawToolCalls(message: Answer): RawToolCall[] {
  const raw = message.additional_kwargs?.tool_calls as readonly OpenAiToolCallShape[] | undefined;
  if (Array.isArray(raw)) {
    return raw.map((c: OpenAiToolCallShape) => ({
      ...(c.id ? { id: c.id } : {}),
      name: c.function?.name ?? '',
      argsText: c.function?.arguments ?? '',
    }));
  }
  return [
    ...(message.tool_calls ?? []).map((c) => ({
      ...(c.id ? { id: c.id } : {}),
      name: c.name,
      args: c.args as unknown,
    })),
    ...(message.invalid_tool_calls ?? []).map((c) => ({
      ...(c.id ? { id: c.id } : {}),
      name: c.name ?? '',
      argsText: c.args ?? '',
    })),
  ];
}

/**
 * The repair turn: the assistant's answer as it was sent (malformed arguments included), then
 * one tool message per call (the errors, or "not executed") or, when the answer had no usable
 * tool-call ids, one user message with the errors. Nothing else is added to the conversation.
 */
function repairTurn(
  answer: Answer,
  calls: readonly RawToolCall[],
  problems: readonly ToolCallProblem[],
): BaseMessage[] {
  const text = textOf(answer);
  const callProblems = problems.filter((p) => p.kind !== 'missing-tool-call');
  const turnProblems = problems.filter((p) => p.kind === 'missing-tool-call');
  const identified = calls.flatMap((c) => (c.id !== undefined ? [{ ...c, id: c.id }] : []));
  if (calls.length > 0 && identified.length === calls.length) {
    const assistant = new AIMessage({ content: text, tool_calls: [], invalid_tool_calls: [] });
    // ChatOpenAI 1.5.8 replays `tool_calls` when there are any and drops `invalid_tool_calls`;
    // setting the raw calls after construction makes it replay every call verbatim instead.
    assistant.additional_kwargs = {
      tool_calls: identified.map((c) => ({
        id: c.id,
        type: 'function' as const,
        function: {
          name: c.name,
          arguments: 'argsText' in c ? c.argsText : JSON.stringify(c.args),
        },
      })),
    };
    const toolMessages = identified.map((call, index) => {
      const problem = callProblems.find((p) => p.index === index);
      return new ToolMessage({
        tool_call_id: call.id,
        content: problem
          ? `${describeProblemForModel(problem)}\nCorrect the call and send it again.`
          : 'Not executed: another tool call in this turn was invalid. Send this call again if it is still needed.',
      });
    });
    const extra = turnProblems.map((p) => new HumanMessage(describeProblemForModel(p)));
    return [assistant, ...toolMessages, ...extra];
  }
  const assistant = new AIMessage({ content: text, tool_calls: [], invalid_tool_calls: [] });
  const feedback = [...callProblems, ...turnProblems].map(describeProblemForModel).join('\n\n');
  return [assistant, new HumanMessage(`${feedback}\nAnswer again with a valid tool call.`)];
}

function textOf(message: Answer): string {
  return typeof message.content === 'string' ? message.content : message.text;
}

function costOf(route: Route, inputTokens: number, outputTokens: number): number {
  if (!route.pricing) return 0;
  return roundUsd(
    (inputTokens * route.pricing.inputPerMillionUsd +
      outputTokens * route.pricing.outputPerMillionUsd) /
      1_000_000,
  );
}

function roundUsd(value: number): number {
  return Math.round(value * 1e10) / 1e10;
}

function classify(error: unknown, deadline: AbortSignal): TransportFailure {
  const violation = findCause(error, (e) => e instanceof RouteViolationError);
  if (violation) throw violation;
  const e = error as {
    name?: unknown;
    status?: unknown;
    headers?: unknown;
  } | null;
  const status = typeof e?.status === 'number' ? e.status : undefined;
  if (status !== undefined) {
    const retryAfterMs = status === 429 || status === 503 ? retryAfterOf(e?.headers) : undefined;
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    return {
      outcome: status === 429 ? 'rate-limited' : 'http-error',
      status,
      retryable,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  if (
    deadline.aborted ||
    findCause(
      error,
      (c) =>
        typeof c === 'object' &&
        c !== null &&
        ((c as Error).name === 'TimeoutError' ||
          c.constructor?.name === 'APIConnectionTimeoutError'),
    )
  ) {
    return { outcome: 'timeout', retryable: true };
  }
  // The OpenAI SDK's connection errors keep the name "Error": matched by class name, as
  // @langchain/openai itself does.
  if (
    findCause(
      error,
      (c) => typeof c === 'object' && c !== null && c.constructor?.name === 'APIConnectionError',
    )
  ) {
    return { outcome: 'network-error', retryable: true };
  }
  throw error;
}

function findCause(error: unknown, match: (e: unknown) => boolean): unknown {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (match(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function retryAfterOf(headers: unknown): number | undefined {
  const get = (name: string): string | null | undefined => {
    if (headers instanceof Headers) return headers.get(name);
    if (typeof headers === 'object' && headers !== null) {
      const value = (headers as Record<string, unknown>)[name];
      return typeof value === 'string' ? value : undefined;
    }
    return undefined;
  };
  const ms = Number(get('retry-after-ms'));
  if (get('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms;
  const value = get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function codeFor(failure: TransportFailure): string {
  switch (failure.outcome) {
    case 'timeout':
      return 'TIMEOUT';
    case 'rate-limited':
      return 'RATE_LIMITED';
    case 'network-error':
      return 'NETWORK_ERROR';
    case 'http-error':
      if (failure.status === 401 || failure.status === 403) return 'AUTH_FAILED';
      return failure.status !== undefined && failure.status >= 500
        ? 'UPSTREAM_ERROR'
        : 'REQUEST_REJECTED';
  }
}

function reasonFor(failure: TransportFailure, attempts: number, route: Route): string {
  const tries = `${attempts} attempt(s)`;
  switch (failure.outcome) {
    case 'timeout':
      return `TIMEOUT: no answer within ${route.timeoutMs} ms (${tries})`;
    case 'network-error':
      return `NETWORK_ERROR: could not reach the endpoint (${tries})`;
    default:
      return `${codeFor(failure)}: HTTP ${failure.status} (${tries})`;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
