import { Injectable } from '@nestjs/common';
import { CrmChangeEvent, ExecutionOutcome, PolicyDecision } from '@mandate/contracts';
import { PlanRunner } from '@mandate/orchestrator-domain';
import { Topics, type Envelope } from '@mandate/messaging';
import { OnEvent, OutboxRelayHost } from '@mandate/platform';

/** CRM changes start plans; decisions and outcomes move them on. */
@Injectable()
export class OrchestratorConsumers {
  constructor(
    private readonly plans: PlanRunner,
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

  @OnEvent(Topics.executionOutcomes)
  async onOutcome(env: Envelope<ExecutionOutcome>): Promise<void> {
    await this.plans.onOutcome(env.value);
    await this.relay.kick();
  }
}
