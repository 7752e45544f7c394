import { Inject, Injectable } from '@nestjs/common';
import { AuditRecord } from '@mandate/contracts';
import { LedgerWriter } from '@mandate/ledger-domain';
import { MalformedMessageError, Topics, type Envelope } from '@mandate/messaging';
import { isTenantId, type TenantId } from '@mandate/storage';
import {
  OnEvent,
  SERVICE_CONTEXT,
  type ServiceContext,
  type DomainCounter,
} from '@mandate/platform';
import { CheckpointHost } from './checkpoint.host';

/** Most records appended in one bulk insert. */
export const AUDIT_BATCH_SIZE = 1000;

/**
 * Appends every service's audit records to the tenant's log, a batch at a time (one ordered bulk
 * insert per tenant per batch). The topic is keyed by tenant, so one consumer in the group owns
 * a tenant's partition: the single writer the log needs. A record that is not its envelope's
 * tenant's is malformed: the batch fails, and the bus isolates it into the dead-letter topic.
 */
@Injectable()
export class AuditRecordConsumer {
  private readonly appendedTotal: DomainCounter;

  constructor(
    private readonly writer: LedgerWriter,
    private readonly checkpoints: CheckpointHost,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {
    this.appendedTotal = ctx.metrics.counter(
      'ledger_appended_total',
      'Audit records appended to the ledger',
    );
  }

  @OnEvent(Topics.auditRecords, { batch: { maxSize: AUDIT_BATCH_SIZE } })
  async onRecords(envs: Envelope<AuditRecord>[]): Promise<void> {
    const byTenant = new Map<TenantId, AuditRecord[]>();
    for (const env of envs) {
      const record = env.value;
      if (!isTenantId(record.tenantId) || record.tenantId !== env.tenantId)
        throw new MalformedMessageError(
          `audit record tenant "${record.tenantId}" is invalid or differs from the envelope's`,
        );
      if (!record.recordId) throw new MalformedMessageError('audit record has no record id');
      const list = byTenant.get(record.tenantId) ?? [];
      list.push(record);
      byTenant.set(record.tenantId, list);
    }
    for (const [tenant, records] of byTenant) {
      const { appended, existing } = await this.writer.appendBatch(tenant, records);
      if (appended.length) this.appendedTotal.inc({}, appended.length);
      if (existing)
        this.ctx.logger.debug({ tenant, existing }, 'redelivered audit records already in the log');
      await this.checkpoints.appended(tenant, appended.length);
    }
  }
}
