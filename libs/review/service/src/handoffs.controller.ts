import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  HANDOFF_OUTCOMES,
  HANDOFF_STATUSES,
  HandOffQueue,
  uuidFrom,
  type HandOffOutcome,
  type HandOffStatusName,
  type HandOffTask,
} from '@mandate/review-domain';
import {
  ApiAuthGuard,
  AuthPrincipal,
  OutboxRelayHost,
  type AuthenticatedPrincipal,
} from '@mandate/platform';
import { domain, listQuery, readable, writable } from './access';

/** A hand-off task as the HTTP API returns it (ISO timestamps). */
export interface HandOffView {
  handoffId: string;
  tenantId: string;
  /** OPEN, CLAIMED, DONE or DISMISSED. */
  status: HandOffStatusName;
  team: string;
  planId: string;
  correlationId: string;
  agentId: string;
  objective: string;
  target: { objectType: string; recordId: string };
  reason: string;
  candidates: string[];
  steps: {
    index: number;
    actionType: string;
    status: string;
    reasons: string[];
    proposalId: string;
  }[];
  handedOffAt: string;
  createdAt: string;
  updatedAt: string;
  assigneeId?: string;
  claimedAt?: string;
  resolution?: {
    resolutionId: string;
    outcome: HandOffOutcome;
    reviewerId: string;
    at: string;
    note?: string;
  };
  closedAt?: string;
  history: {
    at: string;
    event: string;
    actor: string;
    previousAssignee?: string;
    outcome?: HandOffOutcome;
  }[];
}

export function handOffView(t: HandOffTask): HandOffView {
  return {
    handoffId: t.handoffId,
    tenantId: t.tenantId,
    status: t.status,
    team: t.team,
    planId: t.planId,
    correlationId: t.correlationId,
    agentId: t.agentId,
    objective: t.objective,
    target: { objectType: t.target.objectType, recordId: t.target.recordId },
    reason: t.reason,
    candidates: [...t.candidates],
    steps: t.steps.map((s) => ({
      index: s.index,
      actionType: s.actionType,
      status: s.status,
      reasons: [...s.reasons],
      proposalId: s.proposalId,
    })),
    handedOffAt: t.handedOffAt.toISOString(),
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
    ...(t.assigneeId ? { assigneeId: t.assigneeId } : {}),
    ...(t.assigneeId && t.claimedAt ? { claimedAt: t.claimedAt.toISOString() } : {}),
    ...(t.resolution
      ? {
          resolution: {
            resolutionId: t.resolution.id,
            outcome: t.resolution.outcome,
            reviewerId: t.resolution.reviewerId,
            at: t.resolution.at.toISOString(),
            ...(t.resolution.note ? { note: t.resolution.note } : {}),
          },
        }
      : {}),
    ...(t.closedAt ? { closedAt: t.closedAt.toISOString() } : {}),
    history: t.history.map((h) => ({
      at: h.at.toISOString(),
      event: h.event,
      actor: h.actor,
      ...(h.previousAssignee ? { previousAssignee: h.previousAssignee } : {}),
      ...(h.outcome ? { outcome: h.outcome } : {}),
    })),
  };
}

/**
 * Agents' hand-offs in the review API: plans an agent handed off to a person (budget spent, model
 * failure, ambiguous input, an action turned down again). Nothing is approved here: a reviewer
 * takes the hand-off over, does the work in the CRM, and resolves it DONE or DISMISSED. Tenant
 * isolation and roles as on the review tasks: a principal reads its own tenant only; writes act
 * as the principal, who must be a reviewer (of the hand-off team) or supervisor of the tenant;
 * auditors read and get 403 on every write.
 */
@Controller('v1')
@UseGuards(ApiAuthGuard)
export class HandOffsController {
  constructor(
    private readonly queue: HandOffQueue,
    private readonly relay: OutboxRelayHost,
  ) {}

  @Get('tenants/:tenant/review/handoffs')
  async list(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Query() q: Record<string, string | string[] | undefined>,
  ): Promise<{ items: HandOffView[]; next?: string }> {
    const t = readable(p, tenant);
    const { one, statuses, limit: limitOf } = listQuery(q);
    const status = statuses(HANDOFF_STATUSES);
    const limit = limitOf();
    const page = await domain(() =>
      this.queue.list(
        t,
        {
          ...(status ? { status } : {}),
          team: one('team'),
          agentId: one('agentId'),
          assigneeId: one('assignee'),
        },
        { limit, after: one('after') },
      ),
    );
    return { items: page.items.map(handOffView), ...(page.next ? { next: page.next } : {}) };
  }

  @Get('tenants/:tenant/review/handoffs/:handoffId')
  async get(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Param('handoffId') handoffId: string,
  ): Promise<HandOffView> {
    const t = readable(p, tenant);
    return handOffView(await domain(() => this.queue.get(t, handoffId)));
  }

  @Post('tenants/:tenant/review/handoffs/:handoffId/claim')
  @HttpCode(200)
  async claim(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Param('handoffId') handoffId: string,
  ): Promise<HandOffView> {
    const t = writable(p, tenant, 'claim');
    const task = await domain(() => this.queue.claim(t, handoffId, p.id));
    await this.relay.kick();
    return handOffView(task);
  }

  @Post('tenants/:tenant/review/handoffs/:handoffId/release')
  @HttpCode(200)
  async release(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Param('handoffId') handoffId: string,
  ): Promise<HandOffView> {
    const t = writable(p, tenant, 'release');
    const task = await domain(() => this.queue.release(t, handoffId, p.id));
    await this.relay.kick();
    return handOffView(task);
  }

  /**
   * Resolves the hand-off: `{outcome: "DONE" | "DISMISSED", note?, resolutionId?}`. Idempotent on
   * `resolutionId` or the `Idempotency-Key` header (scoped to the person and the hand-off): the
   * same one again returns the recorded resolution with `duplicate: true` and changes nothing.
   */
  @Post('tenants/:tenant/review/handoffs/:handoffId/resolve')
  @HttpCode(200)
  async resolve(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Param('handoffId') handoffId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<HandOffView & { duplicate: boolean }> {
    const t = writable(p, tenant, 'resolve');
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new BadRequestException('body must be a JSON object');
    const b = body as Record<string, unknown>;
    const outcome = b['outcome'];
    if (typeof outcome !== 'string' || !(HANDOFF_OUTCOMES as readonly string[]).includes(outcome))
      throw new BadRequestException(`outcome must be one of ${HANDOFF_OUTCOMES.join(', ')}`);
    const note = optionalString(b, 'note');
    let resolutionId = optionalString(b, 'resolutionId');
    if (!resolutionId && idempotencyKey) {
      if (idempotencyKey.length > 200) throw new BadRequestException('Idempotency-Key is too long');
      resolutionId = uuidFrom('http-handoff-resolution', t, handoffId, p.id, idempotencyKey);
    }
    const r = await domain(() =>
      this.queue.resolve(t, handoffId, p.id, {
        outcome: outcome as HandOffOutcome,
        ...(note ? { note } : {}),
        ...(resolutionId ? { resolutionId } : {}),
      }),
    );
    if (!r.duplicate) await this.relay.kick();
    return { ...handOffView(r.task), duplicate: r.duplicate };
  }
}

function optionalString(b: Record<string, unknown>, key: string): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new BadRequestException(`${key} must be a string`);
  return v;
}
