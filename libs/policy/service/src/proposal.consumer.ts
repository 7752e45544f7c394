import { Injectable, Inject } from '@nestjs/common';
import { ActionProposal, Verdict } from '@mandate/contracts';
import { PolicyDecider } from '@mandate/policy-domain';
import { Topics, type Envelope } from '@mandate/messaging';
import { TripBroadcaster } from './trip.broadcaster';
import {
  OnEvent,
  OutboxRelayHost,
  SERVICE_CONTEXT,
  type ServiceContext,
  type DomainCounter,
} from '@mandate/platform';

@Injectable()
export class ProposalConsumer {
  private readonly decided: DomainCounter;
  private readonly divergences: DomainCounter;

  constructor(
    private readonly decider: PolicyDecider,
    private readonly relay: OutboxRelayHost,
    private readonly trips: TripBroadcaster,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {
    this.decided = ctx.metrics.counter('policy_decisions_total', 'Policy decisions by verdict', [
      'verdict',
    ]);
    this.divergences = ctx.metrics.counter(
      'policy_shadow_divergences_total',
      'Shadow bundle verdicts that differ',
      ['shadow_bundle'],
    );
  }

  @OnEvent(Topics.actionsProposed)
  async onProposal(env: Envelope<ActionProposal>): Promise<void> {
    const { decision, recorded, divergence } = await this.decider.decideAndRecord(env.value);
    await this.trips.flush(); // an action-rate trip a failed earlier attempt could not send
    if (!recorded) return; // already decided (redelivery)
    this.ctx.logger.info(
      {
        correlationId: env.correlationId,
        proposalId: env.value.proposalId,
        verdict: Verdict[decision.verdict],
        reasons: decision.explanation?.reasonCodes,
        bundle: decision.explanation?.bundleVersion,
        ...(divergence ? { shadowVerdict: divergence.shadowVerdict } : {}),
      },
      'proposal decided',
    );
    this.decided.inc({ verdict: Verdict[decision.verdict] });
    if (divergence) this.divergences.inc({ shadow_bundle: divergence.shadowBundle });
    await this.relay.kick();
  }
}
