import { Inject, Injectable } from '@nestjs/common';
import { PolicyDecision, ReviewDecision } from '@mandate/contracts';
import {
  ReviewDecisions,
  PolicyUnavailableError,
  ReviewError,
  ReviewTaskOpener,
  type ReviewTaskDoc,
} from '@mandate/review-domain';
import { Topics, type Envelope } from '@mandate/messaging';
import {
  OnEvent,
  OutboxRelayHost,
  SERVICE_CONTEXT,
  type OutboxStore,
  type ServiceContext,
} from '@mandate/platform';
import { isTenantId, type TenantId } from '@mandate/storage';

export const REVIEW_TASK_STORE = Symbol('REVIEW_TASK_STORE');

/** Where events this service publishes say they come from (the domain's outbox source). */
export const REVIEW_SOURCE = 'human-review';

/** Tenants this process has seen tasks for (the SLA sweep visits them, with the configured ones). */
export class SeenTenants {
  private readonly seen = new Set<TenantId>();
  add(tenant: string): void {
    if (isTenantId(tenant)) this.seen.add(tenant);
  }
  list(): TenantId[] {
    return [...this.seen];
  }
}

/** Opens a review task for every decision that needs a human. */
@Injectable()
export class ReviewDecisionConsumer {
  constructor(
    private readonly opener: ReviewTaskOpener,
    @Inject(REVIEW_TASK_STORE) private readonly store: OutboxStore<ReviewTaskDoc>,
    private readonly relay: OutboxRelayHost,
    private readonly tenants: SeenTenants,
  ) {}

  @OnEvent(Topics.policyDecisions)
  async onDecision(env: Envelope<PolicyDecision>): Promise<void> {
    this.tenants.add(env.value.tenantId);
    if (await this.opener.open(this.store, env.value)) await this.relay.kick();
  }
}

/**
 * Review decisions made elsewhere (another console, a tool publishing on `review-decisions`):
 * applied with the same rules as the HTTP API. The ones this service published itself (source
 * `human-review`: the console's decisions and the SLA fail-safe) are skipped, so nothing loops;
 * a redelivered decision is recognised by its review_decision_id (the domain returns the recorded
 * result and writes nothing). A refused decision (unknown reviewer, closed task, ...) is logged
 * and dropped; any other error (policy unreachable) is left to the bus to retry.
 */
@Injectable()
export class ReviewDecisionMessages {
  constructor(
    private readonly decisions: ReviewDecisions,
    private readonly relay: OutboxRelayHost,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {}

  @OnEvent(Topics.reviewDecisions)
  async onReviewDecision(env: Envelope<ReviewDecision>): Promise<void> {
    if (env.source === REVIEW_SOURCE || env.source === this.ctx.name) return;
    try {
      const result = await this.decisions.applyReviewDecision(env.value);
      if (!result.duplicate) await this.relay.kick();
    } catch (err) {
      // Policy unreachable is not a refusal: the bus redelivers (and dead-letters in the end).
      if (!(err instanceof ReviewError) || err instanceof PolicyUnavailableError) throw err;
      this.ctx.logger.warn(
        {
          code: err.code,
          taskId: env.value.taskId,
          reviewDecisionId: env.value.reviewDecisionId,
          tenantId: env.tenantId,
          source: env.source,
        },
        `review decision refused: ${err.message}`,
      );
    }
  }
}
