import { Inject, Injectable } from '@nestjs/common';
import { PolicyDecision } from '@mandate/contracts';
import { ActionExecutor } from '@mandate/connectors-domain';
import { Topics, type Envelope } from '@mandate/messaging';
import { OnEvent, OutboxRelayHost, SERVICE_CONTEXT, type ServiceContext } from '@mandate/platform';

/** Executes decided actions; thin: the executor owns the rules. */
@Injectable()
export class DecisionConsumer {
  constructor(
    private readonly executor: ActionExecutor,
    private readonly relay: OutboxRelayHost,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {}

  @OnEvent(Topics.policyDecisions)
  async onDecision(env: Envelope<PolicyDecision>): Promise<void> {
    const result = await this.executor.execute(env.value);
    this.ctx.logger.info(
      { correlationId: env.correlationId, decisionId: env.value.decisionId, result: result.kind },
      result.kind === 'skipped' ? `decision skipped: ${result.reason}` : `decision ${result.kind}`,
    );
    if (result.kind !== 'skipped') await this.relay.kick();
  }
}
