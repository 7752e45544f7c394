import 'reflect-metadata';
import { z } from 'zod';
import { LedgerReader, parseKeks, signerFromConfig } from '@mandate/ledger-domain';
import { LedgerServiceModule, registerLedgerGrpc } from '@mandate/ledger-service';
import {
  ApiTokenAuthenticator,
  envFailpoints,
  parseApiTokens,
  parsedWith,
} from '@mandate/platform';
import { bootServiceApp, serviceConfigSchema } from '@mandate/platform/distributed';

/** A config value parsed by `parse`, its error message reported as the variable's problem. */

const schema = serviceConfigSchema('audit-ledger', { http: 8084, grpc: 50054 }).extend({
  /** Log origin: a tenant's log is "<origin>/<tenant>", the first line of its checkpoints. */
  LEDGER_ORIGIN: z
    .string()
    .regex(
      /^[A-Za-z0-9.-]+(\/[A-Za-z0-9._-]+)*$/,
      'a host-like name, e.g. mandate.example.com/ledger',
    )
    .default('mandate/ledger'),
  /** Name of the checkpoint signing key (C2SP signed-note key name); default: the origin. */
  LEDGER_KEY_NAME: z.string().optional(),
  /** Ed25519 private key that signs checkpoints (PEM, base64 PKCS#8 DER, or a Go PRIVATE+KEY). */
  LEDGER_SIGNING_KEY: z.string().min(1, 'is required (see apps/audit-ledger/README.md)'),
  /** Key-encryption keys for per-data-subject keys: "id:base64,id:base64", current first. */
  LEDGER_SUBJECT_KEKS: z
    .string()
    .min(1, 'is required (see apps/audit-ledger/README.md)')
    .transform(parsedWith(parseKeks)),
  LEDGER_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(1000),
  LEDGER_CHECKPOINT_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** Monitor mode: comma-separated tenants whose logs this instance watches (default none). */
  LEDGER_MONITOR_TENANTS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'tenant ids'))),
  LEDGER_MONITOR_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5000),
  /** Verifier keys the monitor trusts (comma-separated); default: this instance's own key. */
  LEDGER_MONITOR_KEYS: z.string().default(''),
  /** Test only: crash points, e.g. ledger.after-leaves-insert (SIGKILL there). */
  MANDATE_FAILPOINTS: z.string().default(''),
  /** Operator API tokens (sha256 hashes only), for erasure requests. */
  MANDATE_API_TOKENS: z.string().default('').transform(parsedWith(parseApiTokens)),
});

bootServiceApp({
  name: 'audit-ledger',
  schema,
  module: (runtime, config) => {
    const signer = checkpointSigner(
      config.LEDGER_KEY_NAME ?? config.LEDGER_ORIGIN,
      config.LEDGER_SIGNING_KEY,
    );
    return LedgerServiceModule.create({
      context: runtime.context,
      stores: runtime.stores,
      origin: config.LEDGER_ORIGIN,
      signer,
      keks: config.LEDGER_SUBJECT_KEKS,
      authenticator: new ApiTokenAuthenticator(config.MANDATE_API_TOKENS),
      checkpointIntervalMs: config.LEDGER_CHECKPOINT_INTERVAL_MS,
      checkpointBatchSize: config.LEDGER_CHECKPOINT_BATCH_SIZE,
      failpoints: envFailpoints(config.MANDATE_FAILPOINTS, runtime.context.logger),
      monitor: {
        tenants: config.LEDGER_MONITOR_TENANTS,
        intervalMs: config.LEDGER_MONITOR_INTERVAL_MS,
        verifierKeys: config.LEDGER_MONITOR_KEYS
          ? config.LEDGER_MONITOR_KEYS.split(',').map((k) => k.trim())
          : [signer.verifierKey],
      },
    });
  },
  grpc: (host, app) => registerLedgerGrpc(host, app.get(LedgerReader)),
});

function checkpointSigner(name: string, material: string) {
  try {
    return signerFromConfig(name, material);
  } catch (err) {
    // Never echo the key; the reason (e.g. "not an Ed25519 key") is safe.
    throw new Error(
      `LEDGER_SIGNING_KEY is not a usable Ed25519 key for "${name}": ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
