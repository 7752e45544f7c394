import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ActionProposal, Verdict } from '@mandate/contracts';
import {
  BundleRegistry,
  BundleStore,
  CircuitBreakers,
  ControlAdmin,
  parseBreakerKind,
  POLICY_ADMIN_ROLE,
  PolicyDecider,
  TrustRepository,
  type BundleRefusal,
  type ControlAdminResult,
  type KillSwitchMode,
  type KillSwitchTarget,
  type Principal,
} from '@mandate/policy-domain';
import { isTenantId, tenantId } from '@mandate/storage';
import {
  ApiAuthGuard,
  AuthPrincipal,
  OutboxRelayHost,
  type AuthenticatedPrincipal,
} from '@mandate/platform';
import { BundleSyncHost } from './bundle-sync.host';
import { PolicyDecisionsReader } from './policy-decisions.reader';

type KillSwitchBody = KillSwitchTarget & { mode?: KillSwitchMode; reason?: string };

/**
 * The policy service's operator API. Every route needs a bearer token (MANDATE_API_TOKENS); what
 * the principal may do is decided by the domain (policy-admin: everything; supervisor: controls
 * confined to their tenant), and every change is audited. Changes reach every replica through
 * the control topic; the response returns once the change is durable and queued for it.
 */
@Controller('v1/policy')
@UseGuards(ApiAuthGuard)
export class PolicyAdminController {
  constructor(
    private readonly admin: ControlAdmin,
    private readonly breakers: CircuitBreakers,
    private readonly bundles: BundleStore,
    private readonly registry: BundleRegistry,
    private readonly sync: BundleSyncHost,
    private readonly decider: PolicyDecider,
    private readonly relay: OutboxRelayHost,
  ) {}

  /** Kill switches in force (from the documents, the source of truth). */
  @Get('kill-switches')
  async killSwitches() {
    return { killSwitches: await this.admin.list() };
  }

  /** Engages a kill switch: `{scope, tenantId?, agentId?, actionType?, mode, reason}`. */
  @Post('kill-switches')
  async setKillSwitch(@AuthPrincipal() p: AuthenticatedPrincipal, @Body() body: KillSwitchBody) {
    const { mode, reason, target } = killSwitchInput(body);
    return this.control(await this.admin.setKillSwitch(p, target, mode as KillSwitchMode, reason));
  }

  /** Releases a kill switch: `{scope, tenantId?, agentId?, actionType?, reason}`. */
  @Post('kill-switches/clear')
  async clearKillSwitch(@AuthPrincipal() p: AuthenticatedPrincipal, @Body() body: KillSwitchBody) {
    const { reason, target } = killSwitchInput(body);
    return this.control(await this.admin.clearKillSwitch(p, target, reason));
  }

  /** Breakers open on this replica (trips are broadcast, so every replica has the same). */
  @Get('breakers')
  openBreakers() {
    return { breakers: this.breakers.openBreakers() };
  }

  /** Closes a tripped breaker: `{tenantId, agentId, kind, reason}`. */
  @Post('breakers/reset')
  async resetBreaker(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Body() body: { tenantId?: string; agentId?: string; kind?: string; reason?: string },
  ) {
    const kind = parseBreakerKind(body?.kind);
    if (!kind)
      throw new BadRequestException('kind must be rejection_rate, error_spike or action_rate');
    return this.control(
      await this.admin.resetBreaker(
        p,
        str(body.tenantId),
        str(body.agentId),
        kind,
        str(body.reason),
      ),
    );
  }

  /** Stored bundles, the pointer (active and shadow) and what this replica serves. */
  @Get('bundles')
  async listBundles() {
    const active = this.registry.active();
    return {
      bundles: await this.bundles.list(),
      pointer: (await this.bundles.pointer()) ?? null,
      serving: active
        ? { ...active.identity, confirmedAt: active.confirmedAt.toISOString() }
        : null,
    };
  }

  /** Stores a bundle (validated; refused with the validator's messages): `{files: {path: text}}`. */
  @Post('bundles')
  async pushBundle(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Body() body: { files?: Record<string, unknown> },
  ) {
    const files = body?.files;
    if (!files || typeof files !== 'object' || Array.isArray(files))
      throw new BadRequestException('body must be {"files": {"<path>": "<content>", ...}}');
    for (const [k, v] of Object.entries(files))
      if (typeof v !== 'string') throw new BadRequestException(`file ${k} must be a string`);
    const result = await this.bundles.push(files as Record<string, string>, p);
    if (!result.ok) refuse(result);
    return result;
  }

  /** Activates a stored bundle on every replica; the approver must not be its author. */
  @Post('bundles/:version/activate')
  @HttpCode(200)
  async activate(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('version') version: string,
    @Body() body: { reason?: string },
  ) {
    const result = await this.bundles.activate(version, p, str(body?.reason));
    if (!result.ok) refuse(result);
    await this.relay.kick();
    await this.sync.syncNow();
    return result;
  }

  /** Runs a stored bundle in shadow beside the active one: `{version: string | null, reason}`. */
  @Post('bundles/shadow')
  @HttpCode(200)
  async shadow(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Body() body: { version?: string | null; reason?: string },
  ) {
    const version = body?.version ?? undefined;
    if (version !== undefined && typeof version !== 'string')
      throw new BadRequestException('version must be a string or null');
    const result = await this.bundles.setShadow(version || undefined, p, str(body?.reason));
    if (!result.ok) refuse(result);
    await this.relay.kick();
    await this.sync.syncNow();
    return result;
  }

  /** 400 invalid, 403 forbidden (audited); else the event, once durable and handed to the relay. */
  private async control(result: ControlAdminResult) {
    if (!result.ok) {
      const body = { status: result.status, errors: [result.problem] };
      if (result.status === 'forbidden') throw new ForbiddenException(body);
      throw new BadRequestException(body);
    }
    await this.relay.kick();
    return { ok: true, eventId: result.event.eventId, version: result.event.version };
  }

  /** Decides a proposal (ActionProposal JSON) on current facts without recording it. */
  @Post('preview')
  @HttpCode(200)
  async preview(@Body() body: unknown) {
    let proposal: ActionProposal;
    try {
      proposal = ActionProposal.fromJSON(body);
    } catch (err) {
      throw new BadRequestException(`not an ActionProposal: ${(err as Error).message}`);
    }
    const decision = await this.decider.preview(proposal);
    return { verdict: Verdict[decision.verdict], explanation: decision.explanation };
  }
}

/** Tenant-scoped reads: a supervisor sees their tenant only, a policy admin every tenant. */
@Controller('v1/tenants/:tenant/policy')
@UseGuards(ApiAuthGuard)
export class TenantPolicyController {
  constructor(
    private readonly trust: TrustRepository,
    private readonly decisions: PolicyDecisionsReader,
  ) {}

  @Get('trust/:agentId/:actionType')
  async trustOf(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Param('agentId') agentId: string,
    @Param('actionType') actionType: string,
  ) {
    const t = tenantFor(p, tenant);
    try {
      return await this.trust.get(t, agentId, actionType, new Date());
    } catch (err) {
      if (err instanceof RangeError) throw new BadRequestException(err.message);
      throw err;
    }
  }

  /** Shadow divergences, newest first: `?bundle=<shadow version>&limit=<1..500>`. */
  @Get('shadow-divergences')
  async divergences(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Query('bundle') bundle?: string,
    @Query('limit') limit?: string,
  ) {
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 500)
      throw new BadRequestException('limit must be an integer 1..500');
    return {
      divergences: await this.decisions.divergences(tenantFor(p, tenant), bundle, n),
    };
  }
}

function tenantFor(p: Principal, tenant: string) {
  if (!isTenantId(tenant)) throw new BadRequestException(`invalid tenant id "${tenant}"`);
  if (!p.roles.includes(POLICY_ADMIN_ROLE) && p.tenantId !== tenant)
    throw new ForbiddenException(`${p.id} may not read tenant ${tenant}`);
  return tenantId(tenant);
}

function killSwitchInput(body: KillSwitchBody | undefined) {
  if (!body || typeof body !== 'object') throw new BadRequestException('a JSON body is required');
  const target: KillSwitchTarget = {
    scope: body.scope,
    ...(body.tenantId ? { tenantId: str(body.tenantId) } : {}),
    ...(body.agentId ? { agentId: str(body.agentId) } : {}),
    ...(body.actionType ? { actionType: str(body.actionType) } : {}),
  };
  return { target, mode: body.mode, reason: str(body.reason) };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Maps a refused bundle change to its HTTP status. */
function refuse(result: BundleRefusal): never {
  const body = { status: result.code, errors: result.errors };
  switch (result.code) {
    case 'forbidden':
      throw new ForbiddenException(body);
    case 'not_found':
      throw new NotFoundException(body);
    case 'conflict':
      throw new ConflictException(body);
    default:
      throw new BadRequestException(body);
  }
}
