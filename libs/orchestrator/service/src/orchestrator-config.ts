import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  GatewayConfigError,
  OpenAiCompatibleGateway,
  parseGatewayConfig,
  type ModelCallHook,
} from '@mandate/model-gateway';
import type { AgentModelPort } from '@mandate/orchestrator-agents';
import type { TenantSettings } from '@mandate/orchestrator-domain';
import { OfflineAgentsModel } from './offline-agents.model';

/**
 * The orchestrator's per-tenant settings (`TENANT_SETTINGS`, JSON) and model choice
 * (`MODEL_GATEWAY_CONFIG` JSON or `MODEL_GATEWAY_CONFIG_FILE`): the gateway's routes pin each
 * tenant to an endpoint (data residency); without a gateway every tenant gets the built-in
 * offline rules (not an LLM). `offlineTenants` lists tenants kept on the offline rules even when
 * a gateway is configured.
 */

const budgetSchema = z
  .object({
    maxSteps: z.number().int().min(1).max(50),
    maxAdaptations: z.number().int().min(0).max(10),
    maxCostUsd: z.number().finite().min(0).max(100),
  })
  .partial()
  .strict();

const settingsSchema = z
  .object({
    timeZone: z.string().refine(validTimeZone, 'must be an IANA time zone such as Europe/London'),
    rules: z
      .object({
        maxDiscountPercent: z.number().min(0).max(100).optional(),
        minDaysBetweenEmails: z.number().int().min(0).max(365).optional(),
        priorities: z.array(z.string().min(1)).min(1).optional(),
        owners: z
          .array(z.object({ ownerId: z.string().min(1), territory: z.string().min(1) }).strict())
          .optional(),
      })
      .strict()
      .optional(),
    budget: budgetSchema.optional(),
  })
  .strict();

const tenantSettingsSchema = z.record(z.string().regex(/^[a-z][a-z0-9-]{0,63}$/), settingsSchema);

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export class OrchestratorConfigError extends Error {
  override readonly name = 'OrchestratorConfigError';
}

/** Parses `TENANT_SETTINGS`; tenants not listed get `fallback`. Errors name paths, not values. */
export function parseTenantSettings(
  raw: string | undefined,
  fallback: TenantSettings = { timeZone: 'UTC' },
): (tenantId: string) => TenantSettings {
  if (!raw) return () => fallback;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new OrchestratorConfigError('TENANT_SETTINGS is not valid JSON');
  }
  const parsed = tenantSettingsSchema.safeParse(value);
  if (!parsed.success)
    throw new OrchestratorConfigError(
      `TENANT_SETTINGS is invalid: ${parsed.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}`,
    );
  const table = parsed.data;
  return (tenantId) => table[tenantId] ?? fallback;
}

export interface ModelChoiceOptions {
  /** The gateway configuration as JSON, or undefined. */
  readonly config?: string;
  /** A file holding it (a mounted Secret/ConfigMap), used when `config` is unset. */
  readonly configFile?: string;
  /** Tenants kept on the offline rules. */
  readonly offlineTenants?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly onCall?: ModelCallHook;
}

/** Each tenant's model: the gateway when one is configured, else the offline rules. */
export function modelChoice(o: ModelChoiceOptions): {
  modelFor: (tenantId: string) => AgentModelPort;
  description: string;
} {
  const offline = new OfflineAgentsModel();
  const raw = o.config ?? (o.configFile ? readConfigFile(o.configFile) : undefined);
  if (!raw) return { modelFor: () => offline, description: offline.label };
  let gateway: OpenAiCompatibleGateway;
  try {
    gateway = new OpenAiCompatibleGateway({
      config: parseGatewayConfig(raw),
      env: o.env,
      onCall: o.onCall,
    });
  } catch (err) {
    if (err instanceof GatewayConfigError) throw new OrchestratorConfigError(err.message);
    throw err;
  }
  const offlineTenants = new Set(o.offlineTenants ?? []);
  return {
    modelFor: (tenant) => (offlineTenants.has(tenant) ? offline : gateway),
    description: gateway.label,
  };
}

function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new OrchestratorConfigError(
      `MODEL_GATEWAY_CONFIG_FILE ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}
