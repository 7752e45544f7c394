import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local OpenAI-compatible endpoint for tests: a node:http server on 127.0.0.1 speaking the
 * chat-completions protocol as OpenAI documents it (`POST …/chat/completions`, non-streaming
 * JSON; `GET …/models`), with:
 * - a queue of scripted replies (text, tool calls — arguments may be deliberately malformed
 *   JSON text —, errors), then a default responder function, then a fixed text reply;
 * - error injection: any status with the OpenAI error body, `Retry-After`, and a delay before
 *   any reply (to trigger client timeouts);
 * - an API-key check (`Authorization: Bearer …`, or Azure's `api-key` header);
 * - a record of every request: method, path, query, headers (authentication values redacted)
 *   and the raw body string, so a test can assert exactly what left the process.
 *
 * Any path ending in `/chat/completions` is served, so Azure-style base URLs
 * (`/openai/deployments/<name>`, `/openai/v1`) work too.
 */

export interface FakeUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
}

export interface FakeToolCall {
  readonly name: string;
  /** An object is sent as its JSON; a string is sent verbatim (malformed JSON included). */
  readonly arguments: string | Readonly<Record<string, unknown>>;
  readonly id?: string;
}

interface ReplyTiming {
  /** Wait this long before answering (the client may time out first). */
  readonly delayMs?: number;
}

export type FakeReply =
  | (ReplyTiming & {
      readonly kind: 'text';
      readonly content: string;
      readonly usage?: FakeUsage;
      readonly finishReason?: 'stop' | 'length' | 'content_filter';
    })
  | (ReplyTiming & {
      readonly kind: 'tool-calls';
      readonly calls: readonly FakeToolCall[];
      readonly content?: string;
      readonly usage?: FakeUsage;
    })
  | (ReplyTiming & {
      readonly kind: 'error';
      readonly status: number;
      readonly message?: string;
      readonly type?: string;
      readonly code?: string | null;
      /** Sent as the `Retry-After` header (seconds, or an HTTP date). */
      readonly retryAfter?: number | string;
    });

/** Builders for scripted replies. */
export const fakeReply = {
  text: (
    content: string,
    extra: Omit<Extract<FakeReply, { kind: 'text' }>, 'kind' | 'content'> = {},
  ): FakeReply => ({
    kind: 'text',
    content,
    ...extra,
  }),
  toolCall: (
    name: string,
    args: FakeToolCall['arguments'],
    extra: Omit<Extract<FakeReply, { kind: 'tool-calls' }>, 'kind' | 'calls'> = {},
  ): FakeReply => ({ kind: 'tool-calls', calls: [{ name, arguments: args }], ...extra }),
  toolCalls: (
    calls: readonly FakeToolCall[],
    extra: Omit<Extract<FakeReply, { kind: 'tool-calls' }>, 'kind' | 'calls'> = {},
  ): FakeReply => ({ kind: 'tool-calls', calls, ...extra }),
  error: (
    status: number,
    extra: Omit<Extract<FakeReply, { kind: 'error' }>, 'kind' | 'status'> = {},
  ): FakeReply => ({ kind: 'error', status, ...extra }),
};

/** A chat-completions request body as the fake parsed it. */
export interface FakeChatRequest {
  readonly model: string;
  readonly messages: ReadonlyArray<{
    readonly role: string;
    readonly content: unknown;
    readonly tool_call_id?: string;
    readonly tool_calls?: ReadonlyArray<{
      readonly id: string;
      readonly type: string;
      readonly function: { readonly name: string; readonly arguments: string };
    }>;
  }>;
  readonly tools?: ReadonlyArray<{
    readonly type: string;
    readonly function: {
      readonly name: string;
      readonly description?: string;
      readonly parameters?: unknown;
    };
  }>;
  readonly tool_choice?: unknown;
  readonly temperature?: number;
  readonly max_tokens?: number;
  readonly stream?: boolean;
  readonly [key: string]: unknown;
}

export type FakeResponder = (
  request: FakeChatRequest,
  context: { readonly requestIndex: number },
) => FakeReply | Promise<FakeReply>;

/** One request the fake received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Lower-cased names; `authorization` and `api-key` values replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body exactly as received. */
  readonly body: string;
  /** Which credential the request carried and whether it was the expected key. */
  readonly auth: { readonly scheme: 'bearer' | 'api-key' | 'none'; readonly valid: boolean };
  /** The status the fake answered with (0 if the client went away first). */
  status: number;
}

export interface FakeOpenAiOptions {
  /** Expected key; absent: any (or no) credential is accepted. */
  readonly apiKey?: string;
  /** Where the key is expected: OpenAI's Bearer header (default) or Azure's `api-key`. */
  readonly authHeader?: 'bearer' | 'api-key';
  /** Answers chat requests when the scripted queue is empty. */
  readonly responder?: FakeResponder;
  /** Listed by `GET /models`. */
  readonly models?: readonly string[];
}

const REDACTED = '[redacted]';

export class FakeOpenAi {
  readonly requests: RecordedRequest[] = [];
  /** Errors inside the fake itself (answered with a 500); a test can assert there are none. */
  readonly internalErrors: string[] = [];
  private readonly queue: FakeReply[] = [];
  private responder?: FakeResponder;
  private readonly timers = new Set<NodeJS.Timeout>();
  private callSeq = 0;
  private completionSeq = 0;

  private readonly server: Server;
  private port = 0;

  private constructor(private readonly options: FakeOpenAiOptions) {
    this.responder = options.responder;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // A bug in the fake itself (or a throwing responder): kept, and answered with a 500.
        this.internalErrors.push(String(error));
        if (res.headersSent) res.destroy();
        else
          sendJson(res, 500, {
            error: { message: `fake-openai: ${String(error)}`, type: 'server_error', code: null },
          });
      });
    });
  }

  static async start(options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
    const fake = new FakeOpenAi(options);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  /** `http://127.0.0.1:<port>` */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The OpenAI-style base URL (`…/v1`). */
  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  /** The chat-completions requests only. */
  get chatRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/chat/completions'));
  }

  /** The chat-completions request bodies, parsed. */
  chatBodies(): FakeChatRequest[] {
    return this.chatRequests.map((r) => JSON.parse(r.body) as FakeChatRequest);
  }

  /** Scripted replies, used in order before the responder. */
  enqueue(...replies: FakeReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  /** Replaces the default responder. */
  respondWith(responder: FakeResponder | undefined): this {
    this.responder = responder;
    return this;
  }

  /** Scripted replies not yet used. */
  pending(): number {
    return this.queue.length;
  }

  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', this.origin);
    const auth = this.checkAuth(req);
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams.entries()),
      headers: redactHeaders(req),
      body,
      auth,
      status: 0,
    };
    this.requests.push(record);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      sendJson(res, status, payload, headers);
    };

    if (!auth.valid) {
      send(401, {
        error: {
          message: 'Incorrect API key provided.',
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      });
      return;
    }
    if (record.method === 'GET' && url.pathname.endsWith('/models')) {
      send(200, {
        object: 'list',
        data: (this.options.models ?? ['fake-model']).map((id) => ({
          id,
          object: 'model',
          created: 1_700_000_000,
          owned_by: 'fake-openai',
        })),
      });
      return;
    }
    if (record.method !== 'POST' || !url.pathname.endsWith('/chat/completions')) {
      send(404, {
        error: {
          message: `Unknown request URL: ${record.method} ${url.pathname}.`,
          type: 'invalid_request_error',
          param: null,
          code: 'unknown_url',
        },
      });
      return;
    }
    let request: FakeChatRequest;
    try {
      request = JSON.parse(body) as FakeChatRequest;
    } catch {
      send(400, invalidRequest('We could not parse the JSON body of your request.'));
      return;
    }
    if (typeof request.model !== 'string' || !Array.isArray(request.messages)) {
      send(400, invalidRequest('Missing required parameter: model and messages are required.'));
      return;
    }
    if (request.stream === true) {
      send(400, invalidRequest('fake-openai: streaming is not implemented.'));
      return;
    }

    const requestIndex = this.chatRequests.length - 1;
    const reply =
      this.queue.shift() ??
      (this.responder
        ? await this.responder(request, { requestIndex })
        : fakeReply.text('fake-openai: no scripted reply'));
    if (reply.delayMs) {
      const closed = await this.wait(reply.delayMs, res);
      if (closed) return;
    }
    if (reply.kind === 'error') {
      const headers: Record<string, string> = {};
      if (reply.retryAfter !== undefined) headers['retry-after'] = String(reply.retryAfter);
      send(
        reply.status,
        {
          error: {
            message: reply.message ?? defaultErrorMessage(reply.status),
            type: reply.type ?? defaultErrorType(reply.status),
            param: null,
            code: reply.code ?? null,
          },
        },
        headers,
      );
      return;
    }
    send(200, this.completion(request, body, reply));
  }

  private completion(
    request: FakeChatRequest,
    rawBody: string,
    reply: Extract<FakeReply, { kind: 'text' | 'tool-calls' }>,
  ): unknown {
    const toolCalls =
      reply.kind === 'tool-calls'
        ? reply.calls.map((call) => ({
            id: call.id ?? `call_fake_${++this.callSeq}`,
            type: 'function',
            function: {
              name: call.name,
              arguments:
                typeof call.arguments === 'string'
                  ? call.arguments
                  : JSON.stringify(call.arguments),
            },
          }))
        : undefined;
    const content = reply.kind === 'text' ? reply.content : (reply.content ?? null);
    const outputChars = (content ?? '').length + JSON.stringify(toolCalls ?? []).length;
    const usage = reply.usage ?? {
      // Deterministic stand-in for a tokenizer: about four characters a token.
      prompt_tokens: Math.ceil(rawBody.length / 4),
      completion_tokens: Math.max(1, Math.ceil(outputChars / 4)),
    };
    return {
      id: `chatcmpl-fake-${++this.completionSeq}`,
      object: 'chat.completion',
      created: 1_700_000_000 + this.completionSeq,
      model: request.model,
      system_fingerprint: 'fp_fake',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content,
            refusal: null,
            ...(toolCalls ? { tool_calls: toolCalls } : {}),
          },
          logprobs: null,
          finish_reason: toolCalls
            ? 'tool_calls'
            : reply.kind === 'text'
              ? (reply.finishReason ?? 'stop')
              : 'stop',
        },
      ],
      usage: {
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        total_tokens: usage.prompt_tokens + usage.completion_tokens,
      },
    };
  }

  /** Resolves true if the client disconnected while waiting. */
  private wait(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const onClose = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        res.off('close', onClose);
        resolve(res.destroyed);
      }, ms);
      this.timers.add(timer);
      res.once('close', onClose);
    });
  }

  private checkAuth(req: IncomingMessage): RecordedRequest['auth'] {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const apiKeyHeader = req.headers['api-key'];
    const azureKey = typeof apiKeyHeader === 'string' ? apiKeyHeader : undefined;
    const scheme = bearer !== undefined ? 'bearer' : azureKey !== undefined ? 'api-key' : 'none';
    const expected = this.options.apiKey;
    if (expected === undefined) return { scheme, valid: true };
    const presented = (this.options.authHeader ?? 'bearer') === 'bearer' ? bearer : azureKey;
    return { scheme, valid: presented === expected };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function redactHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    headers[key] =
      key === 'authorization' || key === 'api-key'
        ? REDACTED
        : Array.isArray(value)
          ? value.join(', ')
          : value;
  }
  return headers;
}

function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': `req_fake_${Date.now().toString(36)}`,
    ...headers,
  });
  res.end(text);
}

function invalidRequest(message: string) {
  return { error: { message, type: 'invalid_request_error', param: null, code: null } };
}

function defaultErrorMessage(status: number): string {
  if (status === 429) return 'Rate limit reached for requests. Please try again later.';
  if (status === 503) return 'The engine is currently overloaded, please try again later.';
  if (status >= 500) return 'The server had an error while processing your request.';
  return 'The request was rejected.';
}

function defaultErrorType(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}
