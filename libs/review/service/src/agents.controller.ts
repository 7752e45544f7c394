import {
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  HttpException,
  HttpStatus,
  Inject,
  Optional,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  PolicyUnavailableError,
  type AgentOversightPort,
  type ControlResult,
  type KillSwitchMode,
  type KillSwitchTarget,
} from '@mandate/review-domain';
import { ApiAuthGuard, AuthPrincipal, type AuthenticatedPrincipal } from '@mandate/platform';
import { isTenantId, type TenantId } from '@mandate/storage';
import { readable, unavailableAs503 } from './access';

export const AGENT_OVERSIGHT = Symbol('AGENT_OVERSIGHT');

const MODES: readonly KillSwitchMode[] = ['deny', 'require_approval'];
const SCOPES = ['tenant', 'agent', 'action'] as const;
const NAME = /^[a-z][a-z0-9_-]{0,63}$/;
/** An agent id to filter the view by (as agent owners are configured). */
const AGENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The console's agents view: per agent of the tenant, trust over time, autonomy per risk band,
 * open breakers and kill switches in force (from policy: gRPC, or in-process embedded); and the
 * kill switch, for the tenant's `admin` only, confined to that tenant. Policy authorises and
 * audits every switch again (the console's admin is a supervisor of that tenant there).
 */
@Controller('v1/tenants/:tenant/agents')
@UseGuards(ApiAuthGuard)
export class AgentsController {
  constructor(@Optional() @Inject(AGENT_OVERSIGHT) private readonly policy?: AgentOversightPort) {}

  /** The tenant's view; `?agentId=` only that agent's (e.g. the item view's trust trend). */
  @Get()
  async list(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Query('agentId') agentId?: unknown,
  ) {
    const t = readable(p, tenant);
    if (agentId !== undefined && (typeof agentId !== 'string' || !AGENT_ID.test(agentId)))
      throw new BadRequestException('agentId must be 1-128 letters, digits and . _ : -');
    const query = agentId ? { agentId } : {};
    return unavailableAs503(PolicyUnavailableError, () => this.port().oversight(t, query));
  }

  /** Engages a kill switch: `{scope: tenant|agent|action, agentId?, actionType?, mode, reason}`. */
  @Post('kill-switch')
  @HttpCode(200)
  async engage(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Body() body: unknown,
  ) {
    const t = admin(p, tenant);
    const { target, reason, mode } = switchInput(body, t);
    if (!MODES.includes(mode as KillSwitchMode))
      throw new BadRequestException(`mode must be one of ${MODES.join(', ')}`);
    return control(() =>
      this.port().setKillSwitch(actor(p, t), target, mode as KillSwitchMode, reason),
    );
  }

  /** Releases a kill switch: `{scope, agentId?, actionType?, reason}`. */
  @Post('kill-switch/clear')
  @HttpCode(200)
  async release(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Body() body: unknown,
  ) {
    const t = admin(p, tenant);
    const { target, reason } = switchInput(body, t);
    return control(() => this.port().clearKillSwitch(actor(p, t), target, reason));
  }

  private port(): AgentOversightPort {
    if (!this.policy)
      throw new HttpException(
        { statusCode: 503, message: 'this review service has no policy oversight configured' },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    return this.policy;
  }
}

/** Only the tenant's own admin (never an auditor, never across tenants) touches its switches. */
function admin(p: AuthenticatedPrincipal, tenant: string): TenantId {
  if (!isTenantId(tenant)) throw new BadRequestException('invalid tenant id');
  if (p.tenantId !== tenant)
    throw new ForbiddenException(`${p.id} has no access to tenant ${tenant}`);
  if (!p.roles.includes('admin') || p.roles.includes('auditor'))
    throw new ForbiddenException(`${p.id} is not an admin: only admins use the kill switch`);
  return tenant;
}

const actor = (p: AuthenticatedPrincipal, t: TenantId) => ({
  id: p.id,
  roles: [...p.roles],
  tenantId: t,
});

function switchInput(body: unknown, tenant: TenantId) {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadRequestException('body must be a JSON object');
  const b = body as Record<string, unknown>;
  const scope = b['scope'];
  if (!SCOPES.includes(scope as (typeof SCOPES)[number]))
    throw new BadRequestException(`scope must be one of ${SCOPES.join(', ')}`);
  const name = (key: string) => {
    const v = b[key];
    if (typeof v !== 'string' || !NAME.test(v))
      throw new BadRequestException(`${key} is required for scope ${String(scope)}`);
    return v;
  };
  const target: KillSwitchTarget = {
    scope: scope as KillSwitchTarget['scope'],
    tenantId: tenant,
    ...(scope !== 'tenant' ? { agentId: name('agentId') } : {}),
    ...(scope === 'action' ? { actionType: name('actionType') } : {}),
  };
  const reason = typeof b['reason'] === 'string' ? b['reason'].trim() : '';
  if (!reason) throw new BadRequestException('a reason is required');
  return { target, reason, mode: b['mode'] };
}

async function control(fn: () => Promise<ControlResult>) {
  const r = await unavailableAs503(PolicyUnavailableError, fn);
  if (r.ok) return r;
  const body = { statusCode: 0, status: r.status, message: r.problem };
  if (r.status === 'forbidden') throw new ForbiddenException({ ...body, statusCode: 403 });
  throw new BadRequestException({ ...body, statusCode: 400 });
}
