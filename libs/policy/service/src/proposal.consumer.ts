import { Injectable, Inject } from '@nestjs/common';
import { ActionProposal, Verdict } from '@mandate/contracts';
import { PolicyDecider } from '@mandate/policy-domain';
import { Topics, type Envelope } from '@mandate/messaging';
import { OnEvent, OutboxRelayHost, SERVICE_CONTEXT, type ServiceContext } from '@mandate/platform';

@Injectable()
export class ProposalConsumer {
  constructor(
    private readonly decider: PolicyDecider,
    private readonly relay: OutboxRelayHost,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {}

  @OnEvent(Topics.actionsProposed)
  async onProposal(env: Envelope<ActionProposal>): Promise<void> {
    const { decision, recorded, divergence } = await this.decider.decideAndRecord(env.value);
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
    this.ctx.metrics
      .counter('policy_decisions_total', 'Policy decisions by verdict', ['verdict'])
      .inc({ verdict: Verdict[decision.verdict] });
    if (divergence)
      this.ctx.metrics
        .counter('policy_shadow_divergences_total', 'Shadow bundle verdicts that differ', [
          'shadow_bundle',
        ])
        .inc({ shadow_bundle: divergence.shadowBundle });
    await this.relay.kick();
  }
}
