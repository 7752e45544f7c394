import { Inject, Injectable } from '@nestjs/common';
import { ActionProposal, Verdict } from '@mandate/contracts';
import { DecisionService, type DecisionDoc } from '@mandate/policy-domain';
import { Topics, type Envelope } from '@mandate/messaging';
import {
  OnEvent,
  OutboxRelayHost,
  SERVICE_CONTEXT,
  type OutboxStore,
  type ServiceContext,
} from '@mandate/platform';

export const DECISION_STORE = Symbol('DECISION_STORE');

@Injectable()
export class ProposalConsumer {
  constructor(
    private readonly decisions: DecisionService,
    @Inject(DECISION_STORE) private readonly store: OutboxStore<DecisionDoc>,
    private readonly relay: OutboxRelayHost,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {}

  @OnEvent(Topics.actionsProposed)
  async onProposal(env: Envelope<ActionProposal>): Promise<void> {
    const decision = await this.decisions.decideAndRecord(this.store, env.value);
    if (!decision) return; // already decided (redelivery)
    this.ctx.logger.info(
      {
        correlationId: env.correlationId,
        proposalId: env.value.proposalId,
        verdict: Verdict[decision.verdict],
      },
      'proposal decided',
    );
    await this.relay.kick();
  }
}
