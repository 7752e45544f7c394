import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  AgentOwnersConfigError,
  ConnectorRecordReader,
  GrpcAgentOversight,
  GrpcLedgerChain,
  GrpcPolicyRecheck,
  REVIEW_TASK_STORE,
  ReviewServiceModule,
  ReviewersConfigError,
  StaticAgentOwners,
  StaticReviewerDirectory,
  parseAgentOwners,
  parseReviewers,
  registerReviewGrpc,
} from '@mandate/review-service';
import {
  ApiTokenAuthenticator,
  firstOf,
  OidcAuthenticator,
  parseApiTokens,
  parsedWith,
  parseOidcConfig,
  parseServiceToken,
} from '@mandate/platform';
import { bootServiceApp, serviceConfigSchema } from '@mandate/platform/distributed';

const hostPort = (fallback: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'host:port')
    .default(fallback);

const VERIFIER_KEY = /^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+={0,2}$/;

const schema = serviceConfigSchema('human-review', { http: 8083, grpc: 50053 }).extend({
  /** Share of AUTO_WITH_NOTICE decisions (executed at once) sampled for post-hoc review. */
  REVIEW_NOTICE_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(0.2),
  /** policy gRPC (host:port): approvals and edits are re-checked with `Recheck`. */
  POLICY_GRPC_ADDRESS: hostPort('127.0.0.1:50052'),
  POLICY_RECHECK_DEADLINE_MS: z.coerce.number().int().min(50).max(60_000).default(5_000),
  /**
   * This service's credential for policy's Recheck, oversight and kill switch rpcs (from a
   * Secret; its sha256 goes into policy's POLICY_CONTROL_TOKENS). Unset: policy refuses them, so
   * review decisions and the console's agents view answer 503.
   */
  POLICY_CONTROL_TOKEN: z.string().default('').transform(parsedWith(parseServiceToken)),
  /** crm-connectors gRPC (host:port): the console's view of the task's CRM record. */
  CONNECTOR_GRPC_ADDRESS: hostPort('127.0.0.1:50055'),
  CONNECTOR_READ_DEADLINE_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  /** audit-ledger gRPC (host:port): the console's audit trails and causal chains. */
  LEDGER_GRPC_ADDRESS: hostPort('127.0.0.1:50054'),
  LEDGER_READ_DEADLINE_MS: z.coerce.number().int().min(50).max(60_000).default(5_000),
  /** The ledger's origin (as audit-ledger's LEDGER_ORIGIN): the console pins `<origin>/<tenant>`. */
  LEDGER_ORIGIN: z
    .string()
    .regex(
      /^[A-Za-z0-9.-]+(\/[A-Za-z0-9._-]+)*$/,
      'a host-like name, e.g. mandate.example.com/ledger',
    )
    .default('mandate/ledger'),
  /**
   * The ledger's checkpoint verifier keys (C2SP `name+hash+key`, comma-separated; public): the
   * console checks checkpoint signatures with them. Empty: it checks proofs, not signatures.
   */
  LEDGER_VERIFIER_KEYS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
    )
    .refine((keys) => keys.every((k) => VERIFIER_KEY.test(k)), {
      message: 'each key must be a C2SP verifier key: <name>+<8 hex digits>+<base64>',
    }),
  /** Reviewers (JSON array), or a file holding it; see apps/human-review/README.md. */
  REVIEWERS: z.string().optional(),
  REVIEWERS_FILE: z.string().optional(),
  /**
   * Agent owners (JSON `[{tenantId, agentId, ownerId}]`), or a file holding it (not both):
   * four-eyes never counts an agent's owner as one of the approvers.
   */
  AGENT_OWNERS: z
    .string()
    .default('')
    .transform(parsedWith((json) => (json.trim() ? parseAgentOwners(json) : undefined))),
  AGENT_OWNERS_FILE: z
    .string()
    .default('')
    .transform(parsedWith((path) => (path ? parseAgentOwners(readConfigFile(path)) : undefined))),
  REVIEW_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  /** Operator API tokens (JSON, sha256 hashes only): see libs/platform/README.md. */
  MANDATE_API_TOKENS: z.string().default('').transform(parsedWith(parseApiTokens)),
});

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new AgentOwnersConfigError(
      `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

function loadReviewers(config: { REVIEWERS?: string; REVIEWERS_FILE?: string }) {
  if (config.REVIEWERS && config.REVIEWERS_FILE)
    throw new ReviewersConfigError('set REVIEWERS or REVIEWERS_FILE, not both');
  if (config.REVIEWERS_FILE) {
    let text: string;
    try {
      text = readFileSync(config.REVIEWERS_FILE, 'utf8');
    } catch (err) {
      throw new ReviewersConfigError(
        `REVIEWERS_FILE: cannot read ${config.REVIEWERS_FILE} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    return parseReviewers(text);
  }
  // No reviewers: the service runs (tasks open, SLAs fail safe) but nobody can decide.
  return config.REVIEWERS ? parseReviewers(config.REVIEWERS) : [];
}

bootServiceApp({
  name: 'human-review',
  schema,
  module: async (runtime, config) => {
    const log = runtime.context.logger;
    const reviewers = new StaticReviewerDirectory(loadReviewers(config));
    log.info({ tenants: reviewers.tenants() }, 'reviewer directory loaded');
    if (config.AGENT_OWNERS && config.AGENT_OWNERS_FILE)
      throw new AgentOwnersConfigError('set AGENT_OWNERS or AGENT_OWNERS_FILE, not both');
    const owners = new StaticAgentOwners(config.AGENT_OWNERS ?? config.AGENT_OWNERS_FILE ?? []);
    if (owners.size === 0)
      log.warn('no AGENT_OWNERS configured: four-eyes cannot exclude agent owners as approvers');
    else log.info({ agents: owners.size }, 'agent owners loaded');
    const apiTokens = new ApiTokenAuthenticator(config.MANDATE_API_TOKENS);
    const oidcConfig = parseOidcConfig();
    const oidc =
      oidcConfig && new OidcAuthenticator({ ...oidcConfig, onJwksProblem: (m) => log.warn(m) });
    await oidc?.start();
    if (!oidc) log.warn('no OIDC_* configured: only operator tokens reach the review API');
    if (!config.POLICY_CONTROL_TOKEN)
      log.warn(
        "no POLICY_CONTROL_TOKEN: policy refuses this service's re-checks (review decisions answer 503) and the console's agents view",
      );
    return ReviewServiceModule.create({
      context: runtime.context,
      stores: runtime.stores,
      authenticator: oidc ? firstOf(apiTokens, oidc) : apiTokens,
      recheck: new GrpcPolicyRecheck({
        address: config.POLICY_GRPC_ADDRESS,
        deadlineMs: config.POLICY_RECHECK_DEADLINE_MS,
        token: config.POLICY_CONTROL_TOKEN,
      }),
      reviewers,
      owners,
      records: new ConnectorRecordReader({
        address: config.CONNECTOR_GRPC_ADDRESS,
        deadlineMs: config.CONNECTOR_READ_DEADLINE_MS,
      }),
      oversight: new GrpcAgentOversight({
        address: config.POLICY_GRPC_ADDRESS,
        deadlineMs: config.POLICY_RECHECK_DEADLINE_MS,
        controlToken: config.POLICY_CONTROL_TOKEN,
      }),
      ledger: new GrpcLedgerChain({
        address: config.LEDGER_GRPC_ADDRESS,
        deadlineMs: config.LEDGER_READ_DEADLINE_MS,
      }),
      ledgerVerifierKeys: config.LEDGER_VERIFIER_KEYS,
      ledgerOrigin: config.LEDGER_ORIGIN,
      sweepIntervalMs: config.REVIEW_SWEEP_INTERVAL_MS,
      noticeSampleRate: config.REVIEW_NOTICE_SAMPLE_RATE,
    });
  },
  grpc: (host, app) => registerReviewGrpc(host, app.get(REVIEW_TASK_STORE)),
});
