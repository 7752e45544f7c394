import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  ForbiddenException,
  Get,
  Inject,
  NotFoundException,
  Param,
  Post,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import { ConnectorError, SafeExecutor, type ExecutionDoc } from '@mandate/connector-sdk';
import type { DocumentStore } from '@mandate/storage';
import {
  ApiAuthGuard,
  AuthPrincipal,
  OutboxRelayHost,
  type AuthenticatedPrincipal,
} from '@mandate/platform';
import { parseTenant } from './crm.controller';

export const EXECUTION_STORE = Symbol('EXECUTION_STORE');

/** Roles that may undo an executed action: a tenant's supervisor, or a connector admin. */
export const COMPENSATION_ROLES = ['supervisor', 'connector-admin'];

/**
 * Executions by idempotency key, and compensation: an operator undoes an executed, reversible
 * action (the adapter restores the previous values); the COMPENSATED outcome is published and
 * audited with the operator's identity.
 *
 * Operator tokens only (`ApiAuthGuard` on the module's `authenticator`): people's OIDC tokens,
 * which the CRM routes accept, are 401 here whatever their roles. Roles: {@link COMPENSATION_ROLES}
 * (a `supervisor` token bound to the path's tenant), `auditor` may read.
 */
@Controller('v1/tenants/:tenant/executions')
@UseGuards(ApiAuthGuard)
export class ExecutionController {
  constructor(
    private readonly executor: SafeExecutor,
    @Inject(EXECUTION_STORE) private readonly executions: DocumentStore<ExecutionDoc>,
    private readonly relay: OutboxRelayHost,
  ) {}

  @Get(':key')
  async get(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') raw: string,
    @Param('key') key: string,
  ) {
    const tenant = parseTenant(raw);
    authorise(p, tenant, [...COMPENSATION_ROLES, 'auditor']);
    const doc = await this.executions.get(tenant, key);
    if (!doc) throw new NotFoundException(`no execution for key "${key}"`);
    const { undo: _undo, action: _action, ...visible } = doc;
    return { ...visible, reversible: doc.undo !== undefined };
  }

  /** `{reason}` → the COMPENSATED outcome. 409 when the execution cannot be undone. */
  @Post(':key/compensate')
  async compensate(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') raw: string,
    @Param('key') key: string,
    @Body() body: { reason?: unknown },
  ) {
    const tenant = parseTenant(raw);
    authorise(p, tenant, COMPENSATION_ROLES);
    if (
      typeof body?.reason !== 'string' ||
      body.reason.trim().length < 3 ||
      body.reason.length > 500
    )
      throw new BadRequestException('reason is required (3-500 characters)');
    try {
      const result = await this.executor.compensate(tenant, key, p.id);
      await this.relay.kick();
      return {
        result: result.kind,
        outcomeId: result.kind === 'skipped' ? undefined : result.outcome.outcomeId,
      };
    } catch (err) {
      if (err instanceof ConnectorError) {
        if (err.code === 'NOT_FOUND') throw new NotFoundException(err.message);
        if (err.kind === 'retryable')
          throw new ServiceUnavailableException(`${err.code}: ${err.message}`);
        throw new ConflictException(`${err.code}: ${err.message}`);
      }
      throw err;
    }
  }
}

/**
 * The principal needs one of `roles`; a connector admin (an operator) may act for any tenant,
 * everyone else only for the tenant its token is bound to (a token without a tenant: none).
 */
function authorise(p: AuthenticatedPrincipal, tenant: string, roles: string[]): void {
  const allowed = p.roles.some((r) => roles.includes(r));
  const anyTenant = p.roles.includes('connector-admin');
  if (!allowed || (!anyTenant && p.tenantId !== tenant))
    throw new ForbiddenException(`${p.id} may not do this for tenant ${tenant}`);
}
