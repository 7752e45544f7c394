import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { PolicyControlEvent } from '@mandate/contracts';
import { buildAuditRecord } from '@mandate/audit-client';
import {
  ControlAdmin,
  ControlApplier,
  controlAuditFacts,
  KillSwitchBoard,
  POLICY_ADMIN_ROLE,
} from '@mandate/policy-domain';
import { Topics, type Envelope } from '@mandate/messaging';
import { OnEvent, SERVICE_CONTEXT, type ServiceContext } from '@mandate/platform';
import { BundleSyncHost } from './bundle-sync.host';
import { PendingPublications } from './pending-publications';

const SOURCE = 'policy';

/**
 * Every replica applies every control event (a consumer group of its own, replayed from the
 * start of the one-partition control topic): kill switches and breaker trips/resets change its
 * board at once; a bundle activation or shadow change makes it sync with the bundle store now
 * instead of at the next periodic sync.
 */
@Injectable()
export class ControlConsumer implements OnModuleInit {
  constructor(
    private readonly applier: ControlApplier,
    private readonly admin: ControlAdmin,
    private readonly board: KillSwitchBoard,
    private readonly bundles: BundleSyncHost,
    private readonly pending: PendingPublications,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {}

  /**
   * Before serving, load the kill switches in force from their documents (the source of truth):
   * a replica must not decide without them while it replays the topic. The replayed events carry
   * the same ids and versions, so they change nothing.
   */
  async onModuleInit(): Promise<void> {
    const switches = await this.admin.list();
    for (const s of switches) {
      const { version, mode, reason, setBy, setAt, ...target } = s;
      this.board.apply({
        type: 'set',
        eventId: `preload/${version}/${setAt}/${JSON.stringify(target)}`,
        version,
        target,
        mode,
        reason,
        // From our own database, written after authorisation: applied with the admin role.
        by: { id: setBy, roles: [POLICY_ADMIN_ROLE] },
        at: setAt,
      });
    }
    if (switches.length)
      this.ctx.logger.warn({ count: switches.length }, 'kill switches in force at start');
  }

  @OnEvent(Topics.policyControl, { broadcast: true })
  async onControl(env: Envelope<PolicyControlEvent>): Promise<void> {
    const event = env.value;
    await this.pending.flush(); // refusals a failed earlier attempt could not send
    const change = event.change?.$case;
    if (change === 'bundleActivated' || change === 'shadowSet') {
      const status = await this.bundles.syncNow();
      this.ctx.logger.info({ change, eventId: event.eventId, ...status }, 'bundle control event');
      return;
    }
    const result = this.applier.apply(event);
    const log = result.status === 'applied' ? 'info' : 'warn';
    if (result.status !== 'duplicate' && result.status !== 'stale')
      this.ctx.logger[log](
        { change, eventId: event.eventId, status: result.status, problem: result.problem },
        'control event',
      );
    // Refusals (a forged or unauthorised event) are recorded by no one else.
    for (const audit of result.audits.filter((a) => a.kind.endsWith('_REFUSED'))) {
      const record = buildAuditRecord(controlAuditFacts(audit, event));
      await this.pending.publish(record.recordId, () =>
        this.ctx.bus.publish(Topics.auditRecords, record, {
          tenantId: record.tenantId,
          correlationId: record.correlationId,
          source: SOURCE,
          id: record.recordId,
        }),
      );
    }
  }
}
