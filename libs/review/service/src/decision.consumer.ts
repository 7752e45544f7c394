import { Inject, Injectable } from '@nestjs/common';
import { PolicyDecision } from '@mandate/contracts';
import { ReviewTaskOpener, type ReviewTaskDoc } from '@mandate/review-domain';
import { Topics, type Envelope } from '@mandate/messaging';
import { OnEvent, OutboxRelayHost, type OutboxStore } from '@mandate/platform';

export const REVIEW_TASK_STORE = Symbol('REVIEW_TASK_STORE');

/** Opens a review task for every decision that needs a human. */
@Injectable()
export class ReviewDecisionConsumer {
  constructor(
    private readonly opener: ReviewTaskOpener,
    @Inject(REVIEW_TASK_STORE) private readonly store: OutboxStore<ReviewTaskDoc>,
    private readonly relay: OutboxRelayHost,
  ) {}

  @OnEvent(Topics.policyDecisions)
  async onDecision(env: Envelope<PolicyDecision>): Promise<void> {
    if (await this.opener.open(this.store, env.value)) await this.relay.kick();
  }
}
