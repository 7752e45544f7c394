import 'reflect-metadata';
import { z } from 'zod';
import { DecisionTokenVerifier, parsePublicKey } from '@mandate/decision-token';
import { EmbeddedCrm } from '@mandate/connectors-domain';
import { ConnectorsServiceModule, registerConnectorGrpc } from '@mandate/connectors-service';
import { envFailpoints } from '@mandate/platform';
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
});

bootServiceApp({
  name: 'crm-connectors',
  schema,
  module: (runtime, config) =>
    ConnectorsServiceModule.create({
      context: runtime.context,
      stores: runtime.stores,
      verifier: new DecisionTokenVerifier(config.DECISION_VERIFY_KEYS),
      failpoints: envFailpoints(config.MANDATE_FAILPOINTS, runtime.context.logger),
    }),
  grpc: (host, app) => registerConnectorGrpc(host, app.get(EmbeddedCrm)),
});
