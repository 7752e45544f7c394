import 'reflect-metadata';
import { z } from 'zod';
import { DecisionTokenVerifier, parsePublicKey } from '@mandate/decision-token';
import { readFileSync } from 'node:fs';
import {
  ConnectorRegistry,
  DEFAULT_CONNECTORS_CONFIG,
  parseConnectorsConfig,
  type ConnectorsConfig,
} from '@mandate/connectors-domain';
import {
  ConnectorsServiceModule,
  CRM_OIDC_ROLES,
  registerConnectorGrpc,
} from '@mandate/connectors-service';
import {
  ApiTokenAuthenticator,
  envFailpoints,
  OidcAuthenticator,
  parseApiTokens,
  parsedWith,
  parseOidcConfig,
} from '@mandate/platform';
import { ADAPTER_FACTORIES } from './adapters';

const KNOWN_CONNECTORS = ['embedded', ...Object.keys(ADAPTER_FACTORIES)];
import { bootServiceApp, serviceConfigSchema } from '@mandate/platform/distributed';

const schema = serviceConfigSchema('crm-connectors', { http: 8085, grpc: 50055 }).extend({
  /** Trusted decision-token keys: "keyId=<Ed25519 public key, base64 SPKI DER>" pairs, comma-separated. */
  DECISION_VERIFY_KEYS: z
    .string()
    .min(1, 'is required (see apps/crm-connectors/README.md)')
    .transform((s, ctx) => {
      const keys = new Map<string, ReturnType<typeof parsePublicKey>>();
      for (const pair of s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const at = pair.indexOf('=');
        try {
          if (at < 1) throw new Error('missing "="');
          keys.set(pair.slice(0, at), parsePublicKey(pair.slice(at + 1)));
        } catch {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            message: `"${pair.slice(0, Math.max(at, 0)) || pair.slice(0, 8)}…" is not keyId=<Ed25519 public key>`,
          });
        }
      }
      return keys;
    }),
  /** Test-only crash points, comma-separated (e.g. connector.after-crm-write). Never set in production. */
  MANDATE_FAILPOINTS: z.string().default(''),
  /**
   * Which CRM each tenant uses, with credentials: JSON (`CRM_CONNECTORS`, e.g. from a Secret key)
   * or the path of a JSON file (`CRM_CONNECTORS_FILE`, e.g. a mounted Secret); not both. Neither:
   * every tenant uses the embedded CRM.
   */
  CRM_CONNECTORS: z
    .string()
    .default('')
    .transform(
      parsedWith((json) => (json ? parseConnectorsConfig(json, KNOWN_CONNECTORS) : undefined)),
    ),
  CRM_CONNECTORS_FILE: z
    .string()
    .default('')
    .transform(
      parsedWith((path) =>
        path ? parseConnectorsConfig(readFileSync(path, 'utf8'), KNOWN_CONNECTORS) : undefined,
      ),
    ),
  /** Poll polled CRMs (Salesforce) this often, in ms; 0 disables polling. */
  CHANGE_POLL_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(5000),
  /**
   * Operator API tokens (sha256 hashes only), for the embedded CRM's routes (tokens bound to the
   * tenant, role `crm-user` or `admin`) and the executions API (compensation).
   */
  MANDATE_API_TOKENS: z.string().default('').transform(parsedWith(parseApiTokens)),
});

function oneConnectorsConfig(
  inline: ConnectorsConfig | undefined,
  file: ConnectorsConfig | undefined,
): ConnectorsConfig {
  if (inline && file) throw new Error('set CRM_CONNECTORS or CRM_CONNECTORS_FILE, not both');
  return inline ?? file ?? DEFAULT_CONNECTORS_CONFIG;
}

bootServiceApp({
  name: 'crm-connectors',
  schema,
  module: async (runtime, config) => {
    const log = runtime.context.logger;
    const apiTokens = new ApiTokenAuthenticator(config.MANDATE_API_TOKENS);
    // People's bearer tokens (OIDC, bound to their tenant) on the CRM routes only, next to the
    // operator tokens; `crm-user` (someone working in the CRM) is kept from the token, and needs
    // a tenant claim like the review roles. The executions API takes operator tokens only.
    const oidcConfig = parseOidcConfig();
    const oidc =
      oidcConfig &&
      new OidcAuthenticator({
        ...oidcConfig,
        ...CRM_OIDC_ROLES,
        onJwksProblem: (m) => log.warn(m),
      });
    await oidc?.start();
    if (!oidc) log.warn('no OIDC_* configured: only operator tokens reach the CRM routes');
    return ConnectorsServiceModule.create({
      context: runtime.context,
      stores: runtime.stores,
      verifier: new DecisionTokenVerifier(config.DECISION_VERIFY_KEYS),
      failpoints: envFailpoints(config.MANDATE_FAILPOINTS, log),
      authenticator: apiTokens,
      people: oidc,
      connectors: oneConnectorsConfig(config.CRM_CONNECTORS, config.CRM_CONNECTORS_FILE),
      factories: ADAPTER_FACTORIES,
      pollIntervalMs: config.CHANGE_POLL_INTERVAL_MS,
    });
  },
  grpc: (host, app) => registerConnectorGrpc(host, app.get(ConnectorRegistry)),
});
