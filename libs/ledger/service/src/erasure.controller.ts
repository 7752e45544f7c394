import {
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  HttpCode,
  Inject,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  erasureRecord,
  erasureRecordId,
  ERASURE_REASON_CODE_PATTERN,
  SubjectKeyStore,
} from '@mandate/ledger-domain';
import { outboxMessage, Topics } from '@mandate/messaging';
import { isTenantId, tenantId } from '@mandate/storage';
import {
  ApiAuthGuard,
  AuthPrincipal,
  OutboxRelayHost,
  SERVICE_CONTEXT,
  type AuthenticatedPrincipal,
  type ServiceContext,
} from '@mandate/platform';

/** Role allowed to erase a data subject (GDPR Art. 17 requests are a privacy officer's call). */
export const PRIVACY_OFFICER_ROLE = 'privacy-officer';

/**
 * Crypto-shredding: deletes the data subject's key, so every payload encrypted under it becomes
 * unreadable while every leaf (and so the log) still verifies, then logs the erasure receipt.
 * The receipt goes through the audit-records topic like every record, so the writer that owns
 * the tenant's partition appends it (single writer).
 */
@Controller('v1/tenants/:tenant/ledger')
@UseGuards(ApiAuthGuard)
export class ErasureController {
  constructor(
    private readonly keys: SubjectKeyStore,
    private readonly relay: OutboxRelayHost,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {}

  /** `{dataSubjectId, reasonCode, requestId}` → 202 with the receipt's record id. */
  @Post('erasures')
  @HttpCode(202)
  async erase(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Body() body: { dataSubjectId?: unknown; reasonCode?: unknown; requestId?: unknown },
  ) {
    if (!isTenantId(tenant)) throw new BadRequestException(`invalid tenant id "${tenant}"`);
    if (!p.roles.includes(PRIVACY_OFFICER_ROLE) || (p.tenantId && p.tenantId !== tenant))
      throw new ForbiddenException(`${p.id} may not erase data subjects of ${tenant}`);
    const subject = body?.dataSubjectId;
    const reason = body?.reasonCode;
    const requestId = body?.requestId;
    if (typeof subject !== 'string' || !subject || subject.length > 256)
      throw new BadRequestException('dataSubjectId is required (a pseudonymous id)');
    if (typeof reason !== 'string' || !ERASURE_REASON_CODE_PATTERN.test(reason))
      throw new BadRequestException(`reasonCode must match ${ERASURE_REASON_CODE_PATTERN}`);
    if (typeof requestId !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(requestId))
      throw new BadRequestException('requestId is required (letters, digits, . _ : -)');
    const t = tenantId(tenant);
    let recordId = '';
    // The receipt is written with the tombstone (one write, outbox): an erasure is never
    // without its receipt, and a retried request (already erased) adds nothing.
    const keyExisted = await this.keys.erase(t, subject, {
      receipt: (existed) => {
        const record = erasureRecord({
          tenantId: tenant,
          dataSubjectId: subject,
          erasureRequestId: requestId,
          requestedBy: p.id,
          reasonCode: reason,
          keyExisted: existed,
        });
        recordId = record.recordId;
        return [
          outboxMessage(Topics.auditRecords, record, {
            tenantId: tenant,
            correlationId: record.correlationId,
            source: 'audit-ledger',
            id: record.recordId,
          }),
        ];
      },
    });
    await this.relay.kick();
    this.ctx.logger.info({ tenant, requestId, keyExisted }, 'data subject erased');
    return {
      recordId: recordId || erasureRecordId(tenant, subject, requestId), // already erased: the first receipt's id
      keyExisted,
    };
  }
}
