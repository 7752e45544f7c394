import { Inject, Injectable } from '@nestjs/common';
import { PolicyDecision } from '@mandate/contracts';
import { SafeExecutor } from '@mandate/connector-sdk';
import { RejectedMessageError, Topics, type Envelope } from '@mandate/messaging';
import {
  OnEvent,
  OutboxRelayHost,
  SERVICE_CONTEXT,
  type DomainCounter,
  type ServiceContext,
} from '@mandate/platform';

/** Delivery attempts of one decision before a retryable CRM failure is recorded as FAILED. */
export const DECISION_MAX_ATTEMPTS = 6;

/**
 * Executes decided actions; thin: the SafeExecutor owns the rules. A failure that will not
 * succeed by retrying (permanent, conflict, expired credentials, or retries exhausted) has its
 * FAILED outcome recorded, then the decision goes to the dead-letter topic with the reason.
 */
@Injectable()
export class DecisionConsumer {
  private readonly results: DomainCounter;

  constructor(
    private readonly executor: SafeExecutor,
    private readonly relay: OutboxRelayHost,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {
    this.results = ctx.metrics.counter(
      'connector_executions_total',
      'Decided actions by result: executed, duplicate, refused, failed, skipped',
      ['result'],
    );
  }

  @OnEvent(Topics.policyDecisions, { maxAttempts: DECISION_MAX_ATTEMPTS })
  async onDecision(env: Envelope<PolicyDecision>): Promise<void> {
    const result = await this.executor.execute(env.value, {
      finalAttempt: env.attempt >= DECISION_MAX_ATTEMPTS,
    });
    this.results.inc({ result: result.kind });
    this.ctx.logger.info(
      {
        correlationId: env.correlationId,
        decisionId: env.value.decisionId,
        result: result.kind,
        ...(result.reason ? { reason: result.reason } : {}),
      },
      result.kind === 'skipped' ? `decision skipped: ${result.reason}` : `decision ${result.kind}`,
    );
    if (result.kind !== 'skipped') await this.relay.kick();
    if (result.kind === 'failed')
      throw new RejectedMessageError(result.reason ?? 'execution failed');
  }
}
