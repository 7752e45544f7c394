import { Injectable } from '@nestjs/common';
import {
  CrmChangeEvent,
  ExecutionOutcome,
  PolicyDecision,
  ReviewDecision,
} from '@mandate/contracts';
import { PlanEngine } from '@mandate/orchestrator-domain';
import { Topics, type Envelope } from '@mandate/messaging';
import { OnEvent, OutboxRelayHost } from '@mandate/platform';

/** CRM changes start plans; decisions, reviews and outcomes move them on (or make them adapt). */
@Injectable()
export class OrchestratorConsumers {
  constructor(
    private readonly plans: PlanEngine,
    private readonly relay: OutboxRelayHost,
  ) {}

  @OnEvent(Topics.crmChanges)
  async onCrmChange(env: Envelope<CrmChangeEvent>): Promise<void> {
    if (await this.plans.onCrmChange(env.value)) await this.relay.kick();
  }

  @OnEvent(Topics.policyDecisions)
  async onDecision(env: Envelope<PolicyDecision>): Promise<void> {
    await this.plans.onDecision(env.value);
    await this.relay.kick();
  }

  @OnEvent(Topics.reviewDecisions)
  async onReviewDecision(env: Envelope<ReviewDecision>): Promise<void> {
    await this.plans.onReviewDecision(env.value);
    await this.relay.kick();
  }

  @OnEvent(Topics.executionOutcomes)
  async onOutcome(env: Envelope<ExecutionOutcome>): Promise<void> {
    await this.plans.onOutcome(env.value);
    await this.relay.kick();
  }
}
