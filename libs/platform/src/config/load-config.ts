import { z } from 'zod';

/** Thrown when the environment does not satisfy a service's config schema. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration for ${service}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment once, at start-up, into typed config. Every problem is reported at
 * once (not just the first), naming the variable, so an operator can fix a manifest in one pass.
 */
export function loadConfig<S extends z.ZodTypeAny>(
  service: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(root)';
      const given = issue.path.length === 1 ? env[String(issue.path[0])] : undefined;
      const shown =
        given === undefined ? 'unset' : `got "${redactValue(String(issue.path[0]), given)}"`;
      return `${key}: ${issue.message} (${shown})`;
    });
    throw new ConfigError(service, problems);
  }
  return result.data;
}

const SECRET_KEY = /SECRET|PASSWORD|TOKEN|KEY|CREDENTIAL/i;

/** Shows a config value in an error without leaking secrets or URL credentials. */
export function redactValue(key: string, value: string): string {
  if (SECRET_KEY.test(key)) return '***';
  return value.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}

/** Reusable field schemas so every service spells its variables the same way. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  brokers: () =>
    z
      .string()
      .default('127.0.0.1:9092')
      .transform((s) =>
        s
          .split(',')
          .map((b) => b.trim())
          .filter(Boolean),
      )
      .refine((list) => list.length > 0 && list.every((b) => /^[^:\s]+:\d+$/.test(b)), {
        message: 'must be a comma-separated list of host:port',
      }),
  mongoUrl: () =>
    z
      .string()
      .default('mongodb://127.0.0.1:27017')
      .refine((s) => /^mongodb(\+srv)?:\/\//.test(s), {
        message: 'must start with mongodb:// or mongodb+srv://',
      }),
  logLevel: () =>
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
};

/**
 * A zod transform from a parser that throws: the parser's message becomes the variable's
 * configuration error (so `loadConfig` reports it with every other bad variable).
 */
export function parsedWith<T>(parse: (raw: string) => T) {
  return (raw: string, ctx: z.RefinementCtx): T => {
    try {
      return parse(raw);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
      return z.NEVER;
    }
  };
}
