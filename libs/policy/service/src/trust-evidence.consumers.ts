import { Inject, Injectable } from '@nestjs/common';
import { ExecutionOutcome, ReviewDecision, TrustEvidence } from '@mandate/contracts';
import { TrustEvidenceRecorder, TrustEvidenceRouter } from '@mandate/policy-domain';
import { Topics, type Envelope } from '@mandate/messaging';
import {
  OnEvent,
  SERVICE_CONTEXT,
  type ServiceContext,
  type DomainCounter,
} from '@mandate/platform';
import { TripBroadcaster } from './trip.broadcaster';

const SOURCE = 'policy';

/**
 * Review decisions and execution outcomes → trust evidence, re-keyed by tenant/agent onto the
 * trust-evidence topic. Publishing is at-least-once with the source event's id as the evidence
 * id, so a redelivered outcome is applied once (the trust document remembers processed ids).
 */
@Injectable()
export class OutcomeConsumer {
  constructor(
    private readonly router: TrustEvidenceRouter,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {}

  @OnEvent(Topics.executionOutcomes)
  async onExecution(env: Envelope<ExecutionOutcome>): Promise<void> {
    await this.forward(env, await this.router.fromExecution(env.value));
  }

  @OnEvent(Topics.reviewDecisions)
  async onReview(env: Envelope<ReviewDecision>): Promise<void> {
    await this.forward(env, await this.router.fromReview(env.value));
  }

  private async forward(
    env: Envelope<unknown>,
    evidence: TrustEvidence | { skip: string },
  ): Promise<void> {
    if ('skip' in evidence) {
      this.ctx.logger.debug(
        { topic: env.topic, eventId: env.id, why: evidence.skip },
        'no trust evidence',
      );
      return;
    }
    await this.ctx.bus.publish(Topics.trustEvidence, evidence, {
      tenantId: evidence.tenantId,
      correlationId: evidence.correlationId || env.correlationId,
      source: SOURCE,
      id: `trust/${evidence.eventId}`,
    });
  }
}

/** Applies trust evidence (one writer per tenant/agent key) and feeds the outcome breakers. */
@Injectable()
export class TrustEvidenceConsumer {
  private readonly applied: DomainCounter;

  constructor(
    private readonly recorder: TrustEvidenceRecorder,
    private readonly trips: TripBroadcaster,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {
    this.applied = ctx.metrics.counter(
      'trust_evidence_applied_total',
      'Trust evidence applied, by kind',
      ['kind'],
    );
  }

  @OnEvent(Topics.trustEvidence)
  async onEvidence(env: Envelope<TrustEvidence>): Promise<void> {
    const e = env.value;
    const { applied, assessment, trips } = await this.recorder.record(e);
    if (applied) {
      this.ctx.logger.info(
        {
          correlationId: env.correlationId,
          agentId: e.agentId,
          actionType: e.actionType,
          kind: e.kind,
          trustScore: Number(assessment.score.toFixed(4)),
          trustBand: assessment.band,
        },
        'trust updated',
      );
      this.applied.inc({ kind: e.kind });
    }
    for (const trip of trips) await this.trips.broadcast(trip);
    await this.trips.flush(); // trips a failed earlier attempt observed but could not send
  }
}
