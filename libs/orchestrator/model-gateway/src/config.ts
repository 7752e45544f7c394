import { z } from 'zod';

/**
 * The gateway's configuration: which OpenAI-compatible endpoint serves each tenant. It holds no
 * secrets: a route names the environment variable that holds its key (`apiKeyEnv`), read when
 * the gateway is constructed. Errors name the offending keys, never the values.
 */

export const PROVIDERS = ['openai', 'azure-openai', 'vllm', 'ollama', 'openai-compatible'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Providers that always need a key. */
const KEYED_PROVIDERS: ReadonlySet<Provider> = new Set(['openai', 'azure-openai']);

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * Model names that make @langchain/openai 1.5.8's ChatOpenAI switch to the Responses API
 * regardless of `useResponsesApi: false` (`_modelPrefersResponsesAPI`): this gateway speaks
 * chat completions only, so such a route is refused here rather than at the first call.
 */
const RESPONSES_ONLY_MODEL = /codex|gpt-5\.\d+-pro/;

const pricingSchema = z
  .object({
    inputPerMillionUsd: z.number().finite().min(0),
    outputPerMillionUsd: z.number().finite().min(0),
  })
  .strict();

const routeSchema = z
  .object({
    provider: z.enum(PROVIDERS),
    baseUrl: z.string().min(1),
    apiKeyEnv: z.string().min(1).optional(),
    model: z.string().min(1).max(256),
    temperature: z.number().finite().min(0).max(2).optional(),
    maxTokens: z.number().int().positive().optional(),
    timeoutMs: z.number().int().min(1).max(600_000),
    maxRetries: z.number().int().min(0).max(10),
    region: z.string().min(1).max(64),
    pricing: pricingSchema.optional(),
    /** Azure OpenAI deployment URLs: sent as the `api-version` query parameter. */
    apiVersion: z.string().min(1).max(64).optional(),
    /** What to send as `tool_choice` when a step requires a tool call (default `required`). */
    toolChoice: z.enum(['required', 'auto']).optional(),
  })
  .strict()
  .superRefine((route, ctx) => {
    const fail = (path: string, message: string) =>
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
    if (route.apiKeyEnv !== undefined && !ENV_NAME.test(route.apiKeyEnv)) {
      fail(
        'apiKeyEnv',
        'must be the NAME of an environment variable (letters, digits, underscore), not a key',
      );
    }
    if (route.apiKeyEnv === undefined && KEYED_PROVIDERS.has(route.provider)) {
      fail('apiKeyEnv', `is required for provider ${route.provider}`);
    }
    if (route.apiVersion !== undefined && route.provider !== 'azure-openai') {
      fail('apiVersion', 'is only meaningful for provider azure-openai');
    }
    if (RESPONSES_ONLY_MODEL.test(route.model)) {
      fail(
        'model',
        'is a model ChatOpenAI 1.5.8 always sends to the Responses API; this gateway speaks chat completions only',
      );
    }
    let url: URL;
    try {
      url = new URL(route.baseUrl);
    } catch {
      fail('baseUrl', 'is not an absolute URL');
      return;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      fail('baseUrl', 'must be an http(s) URL');
    }
    if (url.username || url.password) {
      fail('baseUrl', 'must not carry credentials (use apiKeyEnv)');
    }
    if (url.search || url.hash) {
      fail('baseUrl', 'must not have a query or fragment (Azure api-version goes in apiVersion)');
    }
    if (
      url.protocol === 'http:' &&
      KEYED_PROVIDERS.has(route.provider) &&
      !LOOPBACK_HOSTS.has(url.hostname)
    ) {
      fail('baseUrl', `must use https for provider ${route.provider}`);
    }
  });

const configSchema = z
  .object({
    routes: z
      .object({
        default: routeSchema,
        tenants: z.record(z.string().min(1), routeSchema).optional(),
      })
      .strict(),
  })
  .strict();

export type Route = z.infer<typeof routeSchema>;
export type GatewayConfig = z.infer<typeof configSchema>;

/** A configuration error: `issues` name paths and keys, never values. */
export class GatewayConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`model gateway configuration is invalid:\n- ${issues.join('\n- ')}`);
    this.name = 'GatewayConfigError';
  }
}

/** Parses and validates the configuration (a JSON string or an already-parsed value). */
export function parseGatewayConfig(input: unknown): GatewayConfig {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      // The parser's message can quote the text, which may hold a pasted key: not repeated.
      throw new GatewayConfigError(['the configuration is not valid JSON']);
    }
  }
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    throw new GatewayConfigError(parsed.error.issues.map(describeIssue));
  }
  return parsed.data;
}

/** One zod issue as `path: problem`, built from the issue's structure, never its input. */
function describeIssue(issue: z.ZodIssue): string {
  const path = issue.path.length ? issue.path.join('.') : '(root)';
  switch (issue.code) {
    case z.ZodIssueCode.invalid_type:
      return issue.received === 'undefined'
        ? `${path}: is required`
        : `${path}: expected ${issue.expected}, got ${issue.received}`;
    case z.ZodIssueCode.invalid_enum_value:
      return `${path}: must be one of ${issue.options.join(', ')}`;
    case z.ZodIssueCode.unrecognized_keys:
      return `${path}: unknown key(s) ${issue.keys.join(', ')}${
        issue.keys.some((k) => /key|secret|token|password/i.test(k))
          ? ' (secrets never go in this configuration: name an environment variable in apiKeyEnv)'
          : ''
      }`;
    case z.ZodIssueCode.too_small:
      return issue.type === 'string'
        ? `${path}: must not be empty`
        : `${path}: must be ${issue.inclusive ? '>=' : '>'} ${issue.minimum}`;
    case z.ZodIssueCode.too_big:
      return issue.type === 'string'
        ? `${path}: is too long (max ${issue.maximum})`
        : `${path}: must be ${issue.inclusive ? '<=' : '<'} ${issue.maximum}`;
    case z.ZodIssueCode.not_finite:
      return `${path}: must be a finite number`;
    case z.ZodIssueCode.custom:
      // Custom messages are written above and never include the value.
      return `${path}: ${issue.message}`;
    default:
      return `${path}: invalid (${issue.code})`;
  }
}
