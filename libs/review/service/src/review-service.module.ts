import { DynamicModule, Module, type Provider, type Type } from '@nestjs/common';
import {
  HANDOFF_TASKS,
  HandOffQueue,
  REVIEW_TASKS,
  REVIEW_TENANTS,
  ReviewContext,
  ReviewDecisions,
  ReviewerAnalytics,
  ReviewQueue,
  ReviewTaskOpener,
  ReviewTenantRegistry,
  SlaSweeper,
  type AgentOversightPort,
  type AgentOwnerLookup,
  type Clock,
  type PolicyRecheckPort,
  type ReviewConfigInput,
  type ReviewerDirectory,
  type TenantSource,
} from '@mandate/review-domain';
import {
  apiAuthenticatorProvider,
  serviceModule,
  type RequestAuthenticator,
  type ServiceContext,
  type StoreProvider,
} from '@mandate/platform';
import type { TenantId } from '@mandate/storage';
import {
  REVIEW_TASK_STORE,
  ReviewDecisionConsumer,
  ReviewDecisionMessages,
  SeenTenants,
} from './decision.consumer';
import { ConsoleController } from './console.controller';
import { HandOffConsumer } from './handoff.consumer';
import { HandOffsController } from './handoffs.controller';
import { DEV_LOGIN, DevLoginController, type DevLogin } from './dev-login.controller';
import { AGENT_OVERSIGHT, AgentsController } from './agents.controller';
import type { LedgerChainPort } from './ledger-chain';
import {
  LEDGER_CHAIN,
  LEDGER_ORIGIN,
  LEDGER_VERIFIER_KEYS,
  LedgerViewController,
} from './ledger.controller';
import type { RecordReaderPort } from './record-reader';
import { RECORD_READER, ReviewController } from './review.controller';
import { SLA_INTERVAL_MS, SLA_SWEEPER, SLA_TENANTS, SlaSweeperHost } from './sla-sweeper.host';
import { slaTenantSource } from './sla-tenants';

export interface ReviewServiceOptions {
  context: ServiceContext;
  stores: StoreProvider;
  /** Who may call the HTTP API (OIDC + operator tokens, `firstOf`); none: every call 401. */
  authenticator: RequestAuthenticator;
  /** Policy's re-check (gRPC `PolicyService.Recheck`, or `PolicyDecider.recheck` embedded). */
  recheck: PolicyRecheckPort;
  reviewers: ReviewerDirectory;
  owners?: AgentOwnerLookup;
  /** The task's CRM record for the console (through crm-connectors); omitted: `record: null`. */
  records?: RecordReaderPort;
  config?: ReviewConfigInput;
  /**
   * Tenants the SLA sweep visits; default: the directory's tenants (if it lists them), every
   * tenant seen here, and every tenant that ever had a task (`review_tenants`, read at each sweep).
   */
  tenants?: TenantSource;
  /** Default 10 s; 0 disables the timer (`SlaSweeperHost.sweepNow()` still works). */
  sweepIntervalMs?: number;
  /** Time (tests). */
  now?: Clock;
  relayIntervalMs?: number;
  /** Share of AUTO_WITH_NOTICE decisions sampled for post-hoc review (0..1, default 0.2). */
  noticeSampleRate?: number;
  /** Policy's view of the tenant's agents and its kill switch (gRPC, or in-process embedded). */
  oversight?: AgentOversightPort;
  /** The audit ledger's causal chains for the console (gRPC, or the ledger reader embedded). */
  ledger?: LedgerChainPort;
  /** The ledger's checkpoint verifier keys (public; the console checks signatures with them). */
  ledgerVerifierKeys?: readonly string[];
  /** The ledger's origin (a tenant's log is `<origin>/<tenant>`); the console pins it. */
  ledgerOrigin?: string;
  /** DEVELOPMENT ONLY: `POST /v1/dev/login` (the embedded process; never the human-review app). */
  devLogin?: DevLogin;
}

@Module({})
export class ReviewServiceModule {
  static async create(o: ReviewServiceOptions): Promise<DynamicModule> {
    const store = await o.stores.store(REVIEW_TASKS);
    const ctx = new ReviewContext({
      tasks: store,
      reviewers: o.reviewers,
      owners: o.owners,
      policy: o.recheck,
      config: o.config,
      now: o.now,
    });
    const registry = new ReviewTenantRegistry(await o.stores.store(REVIEW_TENANTS), o.now);
    const seen = new SeenTenants();
    const listed = o.reviewers as ReviewerDirectory & { tenants?: () => TenantId[] };
    // Configured and seen tenants, then the durable list (a failed read of it is logged and the
    // others are swept anyway).
    const tenants: TenantSource =
      o.tenants ??
      slaTenantSource({
        configured: () => listed.tenants?.() ?? [],
        seen: () => seen.list(),
        registry,
        logger: o.context.logger,
      });
    const sweeper = new SlaSweeper({ tasks: store, now: o.now, config: ctx.config, tenants });
    // Agents' hand-offs: their own collection and queue (nothing to approve, no SLA).
    const handoffStore = await o.stores.store(HANDOFF_TASKS);
    const handoffs = new HandOffQueue({
      handoffs: handoffStore,
      reviewers: o.reviewers,
      now: o.now,
      config: ctx.config,
      tenants: registry,
    });
    const controllers: Type[] = [
      ReviewController,
      LedgerViewController,
      AgentsController,
      ConsoleController,
      HandOffsController,
    ];
    const providers: Provider[] = [
      {
        provide: ReviewTaskOpener,
        useValue: new ReviewTaskOpener({
          noticeSampleRate: o.noticeSampleRate,
          now: o.now,
          config: o.config,
          tenants: registry,
        }),
      },
      { provide: REVIEW_TASK_STORE, useValue: store },
      { provide: ReviewContext, useValue: ctx },
      { provide: ReviewQueue, useValue: new ReviewQueue(ctx) },
      { provide: ReviewDecisions, useValue: new ReviewDecisions(ctx) },
      { provide: ReviewerAnalytics, useValue: new ReviewerAnalytics(store) },
      { provide: HandOffQueue, useValue: handoffs },
      { provide: SeenTenants, useValue: seen },
      { provide: SLA_SWEEPER, useValue: sweeper },
      { provide: SLA_TENANTS, useValue: tenants },
      { provide: SLA_INTERVAL_MS, useValue: o.sweepIntervalMs ?? 10_000 },
      SlaSweeperHost,
      apiAuthenticatorProvider(o.authenticator),
    ];
    if (o.records) providers.push({ provide: RECORD_READER, useValue: o.records });
    if (o.ledger) providers.push({ provide: LEDGER_CHAIN, useValue: o.ledger });
    if (o.oversight) providers.push({ provide: AGENT_OVERSIGHT, useValue: o.oversight });
    providers.push({ provide: LEDGER_VERIFIER_KEYS, useValue: [...(o.ledgerVerifierKeys ?? [])] });
    if (o.ledgerOrigin) providers.push({ provide: LEDGER_ORIGIN, useValue: o.ledgerOrigin });
    if (o.devLogin) {
      controllers.push(DevLoginController);
      providers.push({ provide: DEV_LOGIN, useValue: o.devLogin });
    }
    return serviceModule({
      module: ReviewServiceModule,
      context: o.context,
      consumers: [ReviewDecisionConsumer, ReviewDecisionMessages, HandOffConsumer],
      controllers,
      outbox: { sources: [store, handoffStore], intervalMs: o.relayIntervalMs },
      providers,
      exports: [REVIEW_TASK_STORE, SlaSweeperHost, ReviewQueue, ReviewDecisions, HandOffQueue],
    });
  }
}
