import type {
  CallContext,
  ChangePage,
  CompensateRequest,
  ConnectorAdapter,
  ExecuteRequest,
  ExecuteResult,
  FindRequest,
  FindResult,
  ReadRequest,
  RecordData,
} from '@mandate/connector-sdk';
import { ConnectorError } from '@mandate/connector-sdk';
import { tenantId, type TenantId } from '@mandate/storage';
import { EMBEDDED_CAPABILITIES } from './embedded-capabilities';
import type { EmbeddedCrm, EmbeddedUndo } from './embedded-crm';

/** The embedded CRM as a connector adapter, for one tenant. */
export class EmbeddedCrmAdapter implements ConnectorAdapter {
  readonly capabilities = EMBEDDED_CAPABILITIES;
  private readonly tenant: TenantId;

  constructor(
    private readonly crm: EmbeddedCrm,
    tenant: string,
  ) {
    this.tenant = tenantId(tenant);
  }

  execute(request: ExecuteRequest, _ctx: CallContext): Promise<ExecuteResult> {
    this.assertTenant(request.tenantId);
    return this.crm.apply(this.tenant, request.idempotencyKey, request.target, request.action);
  }

  async read(request: ReadRequest, _ctx: CallContext): Promise<RecordData | null> {
    this.assertTenant(request.tenantId);
    const fields = await this.crm.read(
      this.tenant,
      request.target.objectType,
      request.target.recordId,
      request.fields,
    );
    return fields === null ? null : { target: request.target, fields };
  }

  async find(request: FindRequest, _ctx: CallContext): Promise<FindResult> {
    this.assertTenant(request.tenantId);
    return this.crm.find(this.tenant, request);
  }

  pollChanges(
    tenant: string,
    cursor: string | undefined,
    limit: number,
    _ctx: CallContext,
  ): Promise<ChangePage> {
    this.assertTenant(tenant);
    return this.crm.changes(this.tenant, cursor, limit);
  }

  compensate(request: CompensateRequest, _ctx: CallContext): Promise<ExecuteResult> {
    this.assertTenant(request.tenantId);
    const undo = request.undo as unknown as EmbeddedUndo;
    if (typeof undo?.previous !== 'object' || undo.previous === null)
      throw ConnectorError.permanent('INVALID_UNDO', 'undo information has no previous values');
    return this.crm.undo(this.tenant, request.idempotencyKey, request.target, undo);
  }

  private assertTenant(tenant: string): void {
    if (tenant !== this.tenant)
      throw ConnectorError.permanent(
        'TENANT_MISMATCH',
        `this adapter serves tenant ${this.tenant}, not ${tenant}`,
      );
  }
}
