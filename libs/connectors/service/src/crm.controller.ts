import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  ForbiddenException,
  Get,
  Inject,
  Injectable,
  NotFoundException,
  Param,
  Patch,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  CrmContentionError,
  CrmInputError,
  CrmRecordNotFoundError,
  EmbeddedCrm,
} from '@mandate/connectors-domain';
import { InvalidTenantIdError, tenantId, type TenantId } from '@mandate/storage';
import {
  ApiAuthGuard,
  AuthPrincipal,
  OIDC_DEFAULT_ROLES,
  OIDC_DEFAULT_TENANT_BOUND_ROLES,
  OutboxRelayHost,
  type AuthenticatedPrincipal,
  type RequestAuthenticator,
} from '@mandate/platform';

/**
 * Who may use the embedded CRM's routes: a principal of the path's tenant with one of these roles
 * (an integration or a person working in the CRM, or the tenant's admin). Everyone else — a
 * reviewer, supervisor or auditor without one of them — is 403: the CRM hands out raw records,
 * personal fields included, which the review API redacts for those roles.
 */
export const CRM_ROLES: readonly string[] = ['crm-user', 'admin'];

/**
 * `OidcAuthenticator` options for people on the CRM routes: the default console roles plus
 * `crm-user`, which, like the review roles, needs a tenant claim.
 */
export const CRM_OIDC_ROLES = Object.freeze({
  allowedRoles: Object.freeze([...OIDC_DEFAULT_ROLES, 'crm-user']),
  tenantBoundRoles: Object.freeze([...OIDC_DEFAULT_TENANT_BOUND_ROLES, 'crm-user']),
});

/** Injection token of the authenticator {@link CrmAuthGuard} uses (operator tokens and people). */
export const CRM_AUTHENTICATOR = Symbol('CRM_AUTHENTICATOR');

/**
 * `ApiAuthGuard` on the CRM's own authenticator: people's tokens (OIDC) are accepted here next to
 * operator tokens, never on the executions API (which keeps the module's operator-only one).
 */
@Injectable()
export class CrmAuthGuard extends ApiAuthGuard {
  constructor(@Inject(CRM_AUTHENTICATOR) authenticator: RequestAuthenticator) {
    super(authenticator);
  }
}

/**
 * The embedded CRM's HTTP face: create or edit a record as a user would (its change event enters
 * Mandate) and read one. Real CRMs feed changes through their adapters' change ingestion instead.
 *
 * Every route needs a bearer token (operator tokens, and people's OIDC tokens where configured;
 * 401 otherwise) of a principal bound to the path's tenant with a role of {@link CRM_ROLES}:
 * another tenant, no tenant at all (a platform-wide operator) or no such role (a reviewer,
 * supervisor or auditor) is 403. The CRM holds personal data; nobody reads across tenants.
 */
@Controller('v1/tenants/:tenant/crm')
@UseGuards(CrmAuthGuard)
export class CrmController {
  constructor(
    private readonly crm: EmbeddedCrm,
    private readonly relay: OutboxRelayHost,
  ) {}

  @Post(':objectType')
  async create(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') raw: string,
    @Param('objectType') objectType: string,
    @Body() body: { id?: string; fields?: Record<string, unknown>; correlationId?: string },
  ) {
    const tenant = tenantOf(p, raw);
    if (!body || typeof body.id !== 'string' || !isObject(body.fields))
      throw new BadRequestException(
        'body must be {"id": string, "fields": object, "correlationId"?: string}',
      );
    const { record, event, created } = await this.call(() =>
      this.crm.create(tenant, objectType, body.id!, body.fields!, correlationOf(body)),
    );
    await this.relay.kick();
    return {
      id: record.id,
      objectType: record.objectType,
      created,
      eventId: event.eventId,
      correlationId: event.correlationId,
    };
  }

  /** `{fields, correlationId?}`: sets the given fields (a user edit) and announces the change. */
  @Patch(':objectType/:id')
  async update(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') raw: string,
    @Param('objectType') objectType: string,
    @Param('id') id: string,
    @Body() body: { fields?: Record<string, unknown>; correlationId?: string },
  ) {
    const tenant = tenantOf(p, raw);
    if (!body || !isObject(body.fields) || Object.keys(body.fields).length === 0)
      throw new BadRequestException(
        'body must be {"fields": non-empty object, "correlationId"?: string}',
      );
    const { record, event } = await this.call(() =>
      this.crm.update(tenant, objectType, id, body.fields!, correlationOf(body)),
    );
    await this.relay.kick();
    return {
      id: record.id,
      objectType: record.objectType,
      version: record.version,
      eventId: event.eventId,
      correlationId: event.correlationId,
    };
  }

  @Get(':objectType/:id')
  async get(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') raw: string,
    @Param('objectType') objectType: string,
    @Param('id') id: string,
  ) {
    const record = await this.crm.get(tenantOf(p, raw), id);
    if (!record || record.objectType !== objectType)
      throw new NotFoundException(`${objectType} ${id} not found`);
    return {
      id: record.id,
      objectType: record.objectType,
      fields: record.fields,
      appliedActions: record.appliedActions,
      activities: record.activities,
      version: record.version,
    };
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof CrmInputError) throw new BadRequestException(err.message);
      if (err instanceof CrmRecordNotFoundError) throw new NotFoundException(err.message);
      if (err instanceof CrmContentionError) throw new ConflictException(err.message);
      throw err;
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function correlationOf(body: { correlationId?: unknown }): string | undefined {
  const c = body.correlationId;
  if (c === undefined) return undefined;
  if (typeof c !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(c))
    throw new BadRequestException('correlationId must be 1-128 letters, digits, . _ : -');
  return c;
}

/**
 * The path's tenant (400 if it is not a tenant id) when the principal is bound to it and holds a
 * CRM role; 403 for a principal of another tenant or of none, or without a CRM role.
 */
function tenantOf(p: AuthenticatedPrincipal, raw: string): TenantId {
  const tenant = parseTenant(raw);
  if (p.tenantId !== tenant)
    throw new ForbiddenException(`${p.id} may not use the CRM of tenant ${tenant}`);
  if (!p.roles.some((r) => CRM_ROLES.includes(r)))
    throw new ForbiddenException(
      `${p.id} may not use the CRM: it needs the role ${CRM_ROLES.join(' or ')}`,
    );
  return tenant;
}

export function parseTenant(raw: string) {
  try {
    return tenantId(raw);
  } catch (err) {
    if (err instanceof InvalidTenantIdError) throw new BadRequestException(err.message);
    throw err;
  }
}
