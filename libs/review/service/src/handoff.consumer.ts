import { Inject, Injectable } from '@nestjs/common';
import { PlanHandOff } from '@mandate/contracts';
import { HandOffQueue, ReviewError } from '@mandate/review-domain';
import { Topics, type Envelope } from '@mandate/messaging';
import { OnEvent, OutboxRelayHost, SERVICE_CONTEXT, type ServiceContext } from '@mandate/platform';

/**
 * Opens a hand-off task for every plan an agent handed off (`plan-handoffs`). A redelivered
 * message finds its task by the hand-off id and writes nothing. A malformed message, or one
 * whose tenant is not the envelope's, is logged and dropped; anything else (storage down) is
 * left to the bus to retry.
 */
@Injectable()
export class HandOffConsumer {
  constructor(
    private readonly queue: HandOffQueue,
    private readonly relay: OutboxRelayHost,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {}

  @OnEvent(Topics.planHandOffs)
  async onHandOff(env: Envelope<PlanHandOff>): Promise<void> {
    const msg = env.value;
    if (msg.tenantId !== env.tenantId) {
      this.ctx.logger.warn(
        { tenantId: env.tenantId, handoffId: msg.handoffId, source: env.source },
        'hand-off dropped: its tenant is not the envelope tenant',
      );
      return;
    }
    try {
      const { opened } = await this.queue.open(msg);
      if (opened) await this.relay.kick();
    } catch (err) {
      if (!(err instanceof ReviewError)) throw err;
      this.ctx.logger.warn(
        { code: err.code, handoffId: msg.handoffId, tenantId: env.tenantId, source: env.source },
        `hand-off refused: ${err.message}`,
      );
    }
  }
}
