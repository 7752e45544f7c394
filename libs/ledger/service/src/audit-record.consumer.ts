import { Inject, Injectable } from '@nestjs/common';
import { AuditRecord } from '@mandate/contracts';
import { LedgerAppender } from '@mandate/ledger-domain';
import { MalformedMessageError, Topics, type Envelope } from '@mandate/messaging';
import { isTenantId } from '@mandate/storage';
import { OnEvent, OutboxRelayHost, SERVICE_CONTEXT, type ServiceContext } from '@mandate/platform';

/**
 * Appends every service's audit records to the tenant's log. The topic is keyed by tenant, so
 * one consumer in the group owns a tenant's partition: the single writer the log needs.
 */
@Injectable()
export class AuditRecordConsumer {
  constructor(
    private readonly appender: LedgerAppender,
    private readonly relay: OutboxRelayHost,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {}

  @OnEvent(Topics.auditRecords)
  async onRecord(env: Envelope<AuditRecord>): Promise<void> {
    const record = env.value;
    if (!isTenantId(record.tenantId) || record.tenantId !== env.tenantId) {
      throw new MalformedMessageError(
        `audit record tenant "${record.tenantId}" is invalid or differs from the envelope's`,
      );
    }
    const { leaf, appended } = await this.appender.append(record.tenantId, record);
    if (appended) {
      this.ctx.logger.debug(
        { correlationId: record.correlationId, leafIndex: leaf.index },
        'audit record appended',
      );
      await this.relay.kick();
    }
  }
}
