import 'reflect-metadata';
import * as path from 'node:path';
import { z } from 'zod';
import {
  ConnectorContextSource,
  OrchestratorServiceModule,
  modelCallRecorder,
  modelChoice,
  parseTenantSettings,
} from '@mandate/orchestrator-service';
import { ApiTokenAuthenticator, parseApiTokens, parsedWith } from '@mandate/platform';
import { bootServiceApp, serviceConfigSchema } from '@mandate/platform/distributed';

const schema = serviceConfigSchema('orchestrator', { http: 8081, grpc: 50051 }).extend({
  /** crm-connectors gRPC (host:port): the agents read their context from the CRM through it. */
  CONNECTOR_GRPC_ADDRESS: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'host:port')
    .default('127.0.0.1:50055'),
  CONNECTOR_READ_DEADLINE_MS: z.coerce.number().int().min(50).max(60_000).default(5_000),
  /** Prompt files seeded into the registry at start (new prompt ids only become active). */
  PROMPTS_DIR: z.string().default('prompts'),
  /** Model gateway routes (JSON, no secrets: keys come from the env vars the routes name). */
  MODEL_GATEWAY_CONFIG: z.string().optional(),
  MODEL_GATEWAY_CONFIG_FILE: z.string().optional(),
  /** Comma-separated tenants kept on the offline rules even with a gateway. */
  OFFLINE_TENANTS: z.string().default(''),
  /** Per-tenant time zone, rules and plan budgets (JSON); see apps/orchestrator/README.md. */
  TENANT_SETTINGS: z.string().optional(),
  /** Operator API tokens (JSON, sha256 hashes only): see libs/platform/README.md. */
  MANDATE_API_TOKENS: z.string().default('').transform(parsedWith(parseApiTokens)),
});

bootServiceApp({
  name: 'orchestrator',
  schema,
  module: (runtime, config) => {
    const models = modelChoice({
      config: config.MODEL_GATEWAY_CONFIG,
      configFile: config.MODEL_GATEWAY_CONFIG_FILE,
      onCall: modelCallRecorder(runtime.context.metrics, runtime.context.logger),
      offlineTenants: config.OFFLINE_TENANTS.split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    });
    runtime.context.logger.info({ model: models.description }, 'agents model');
    return OrchestratorServiceModule.create({
      context: runtime.context,
      stores: runtime.stores,
      source: new ConnectorContextSource({
        address: config.CONNECTOR_GRPC_ADDRESS,
        deadlineMs: config.CONNECTOR_READ_DEADLINE_MS,
      }),
      modelFor: models.modelFor,
      promptsDir: path.resolve(config.PROMPTS_DIR),
      settings: parseTenantSettings(config.TENANT_SETTINGS),
      authenticator: new ApiTokenAuthenticator(config.MANDATE_API_TOKENS),
    });
  },
});
