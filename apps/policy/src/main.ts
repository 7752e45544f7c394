import 'reflect-metadata';
import * as path from 'node:path';
import { z } from 'zod';
import { DecisionTokenIssuer, parsePrivateKey } from '@mandate/decision-token';
import {
  ConnectorRecordReader,
  PolicyServiceModule,
  registerPolicyGrpc,
} from '@mandate/policy-service';
import {
  ApiTokenAuthenticator,
  parseApiTokens,
  parsedWith,
  parseServiceTokenHashes,
} from '@mandate/platform';
import { bootServiceApp, serviceConfigSchema } from '@mandate/platform/distributed';

const schema = serviceConfigSchema('policy', { http: 8082, grpc: 50052 }).extend({
  /** Ed25519 private key (PEM or base64 PKCS#8 DER) that signs decision tokens. */
  DECISION_SIGNING_KEY: z.string().min(1, 'is required (see apps/policy/README.md)'),
  DECISION_SIGNING_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .default('policy-1'),
  DECISION_TOKEN_TTL_SECONDS: z.coerce.number().int().min(10).max(86400).default(300),
  /** crm-connectors gRPC (host:port): policy reads the facts it decides on from the CRM. */
  CONNECTOR_GRPC_ADDRESS: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'host:port')
    .default('127.0.0.1:50055'),
  CONNECTOR_READ_DEADLINE_MS: z.coerce.number().int().min(50).max(30_000).default(2_000),
  /** Bundle that seeds an empty bundle store (first start); afterwards MongoDB is the source. */
  POLICY_BUNDLE_DIR: z.string().default('libs/policy/bundles/default'),
  /** How often each replica re-reads the active bundle pointer (and so confirms freshness). */
  BUNDLE_SYNC_INTERVAL_MS: z.coerce.number().int().min(100).max(300_000).default(5_000),
  /** A bundle not confirmed for this long is stale: every decision is DENY until it is. */
  BUNDLE_MAX_AGE_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(60_000),
  /** Operator API tokens (JSON, sha256 hashes only): see libs/platform/README.md. */
  MANDATE_API_TOKENS: z.string().default('').transform(parsedWith(parseApiTokens)),
  /**
   * sha256 (hex, comma-separated) of the service credentials accepted on the gRPC oversight and
   * kill switch rpcs (human-review's POLICY_CONTROL_TOKEN). Empty: those rpcs are refused.
   */
  POLICY_CONTROL_TOKENS: z.string().default('').transform(parsedWith(parseServiceTokenHashes)),
});

bootServiceApp({
  name: 'policy',
  schema,
  module: (runtime, config) => {
    if (config.POLICY_CONTROL_TOKENS.length === 0)
      runtime.context.logger.warn(
        'no POLICY_CONTROL_TOKENS: GetOversight, SetKillSwitch and ClearKillSwitch over gRPC are ' +
          "refused (the console's agents view answers 503)",
      );
    return PolicyServiceModule.create({
      context: runtime.context,
      stores: runtime.stores,
      issuer: new DecisionTokenIssuer(
        {
          keyId: config.DECISION_SIGNING_KEY_ID,
          privateKey: parseKey(config.DECISION_SIGNING_KEY),
        },
        config.DECISION_TOKEN_TTL_SECONDS * 1000,
      ),
      reader: new ConnectorRecordReader({
        address: config.CONNECTOR_GRPC_ADDRESS,
        deadlineMs: config.CONNECTOR_READ_DEADLINE_MS,
      }),
      seedBundleDir: path.resolve(config.POLICY_BUNDLE_DIR),
      bundleSyncIntervalMs: config.BUNDLE_SYNC_INTERVAL_MS,
      maxBundleAgeMs: config.BUNDLE_MAX_AGE_MS,
      authenticator: new ApiTokenAuthenticator(config.MANDATE_API_TOKENS),
    });
  },
  grpc: (host, app, config) =>
    registerPolicyGrpc(host, app, { controlTokens: config.POLICY_CONTROL_TOKENS }),
});

function parseKey(material: string) {
  try {
    return parsePrivateKey(material);
  } catch {
    throw new Error(
      'DECISION_SIGNING_KEY is not an Ed25519 private key (PEM or base64 PKCS#8 DER)',
    );
  }
}
