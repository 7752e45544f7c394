import 'reflect-metadata';
import { z } from 'zod';
import { DecisionTokenIssuer, parsePrivateKey } from '@mandate/decision-token';
import { DecisionService } from '@mandate/policy-domain';
import { PolicyServiceModule, registerPolicyGrpc } from '@mandate/policy-service';
import { bootServiceApp, serviceConfigSchema } from '@mandate/platform/distributed';

const schema = serviceConfigSchema('policy', { http: 8082, grpc: 50052 }).extend({
  /** Ed25519 private key (PEM or base64 PKCS#8 DER) that signs decision tokens. */
  DECISION_SIGNING_KEY: z.string().min(1, 'is required (see apps/policy/README.md)'),
  DECISION_SIGNING_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .default('policy-1'),
  DECISION_TOKEN_TTL_SECONDS: z.coerce.number().int().min(10).max(86400).default(300),
});

bootServiceApp({
  name: 'policy',
  schema,
  module: (runtime, config) =>
    PolicyServiceModule.create({
      context: runtime.context,
      stores: runtime.stores,
      issuer: new DecisionTokenIssuer(
        {
          keyId: config.DECISION_SIGNING_KEY_ID,
          privateKey: parseKey(config.DECISION_SIGNING_KEY),
        },
        config.DECISION_TOKEN_TTL_SECONDS * 1000,
      ),
    }),
  grpc: (host, app) => registerPolicyGrpc(host, app.get(DecisionService)),
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
