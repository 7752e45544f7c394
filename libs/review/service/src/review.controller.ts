import {
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  Get,
  Headers,
  HttpCode,
  Inject,
  Optional,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { CrmAction } from '@mandate/contracts';
import {
  ReviewContext,
  ReviewDecisions,
  ReviewerAnalytics,
  ReviewQueue,
  uuidFrom,
  type DecisionInput,
  type DecisionResult,
  type ReviewTaskStatusName,
} from '@mandate/review-domain';
import type { TenantId } from '@mandate/storage';
import {
  ApiAuthGuard,
  AuthPrincipal,
  OutboxRelayHost,
  SERVICE_CONTEXT,
  type AuthenticatedPrincipal,
  type ServiceContext,
} from '@mandate/platform';
import { domain, listQuery, readable, writable } from './access';
import { redactRecord, type RecordReaderPort } from './record-reader';
import { stateView, taskDetail, toTaskView, verdictName, type TaskDetail } from './views';

export const RECORD_READER = Symbol('RECORD_READER');

const STATUSES: readonly ReviewTaskStatusName[] = [
  'OPEN',
  'CLAIMED',
  'APPROVED',
  'REJECTED',
  'EXPIRED',
];
const OUTCOMES = ['APPROVE', 'REJECT', 'EDIT_APPROVE'] as const;
/** Roles that read reviewer analytics (they describe colleagues: not every reviewer's business). */
const ANALYTICS_READERS = ['supervisor', 'auditor', 'admin'];

/**
 * The review API the console calls (OIDC bearer tokens or operator tokens, `ApiAuthGuard`).
 * Tenant isolation on every route: a principal works in its own tenant (`tenantId` claim) only,
 * whatever its roles (`readable`). Writes (claim, release, decide, comment, batch) act as the principal's id,
 * which must be an active reviewer or supervisor of the tenant in the reviewer directory; the
 * domain refuses anyone else, and auditors are refused here before that (403).
 */
@Controller('v1')
@UseGuards(ApiAuthGuard)
export class ReviewController {
  constructor(
    private readonly ctx: ReviewContext,
    private readonly queue: ReviewQueue,
    private readonly decisions: ReviewDecisions,
    private readonly analytics: ReviewerAnalytics,
    private readonly relay: OutboxRelayHost,
    @Inject(SERVICE_CONTEXT) private readonly service: ServiceContext,
    @Optional() @Inject(RECORD_READER) private readonly records?: RecordReaderPort,
  ) {}

  @Get('me')
  me(@AuthPrincipal() p: AuthenticatedPrincipal) {
    return { id: p.id, roles: [...p.roles], tenantId: p.tenantId ?? null };
  }

  @Get('tenants/:tenant/review/tasks')
  async list(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Query() q: Record<string, string | string[] | undefined>,
  ) {
    const t = readable(p, tenant);
    const { one, statuses, limit: limitOf } = listQuery(q);
    const status = statuses(STATUSES);
    const limit = limitOf();
    const page = await domain(() =>
      this.queue.list(
        t,
        {
          ...(status ? { status } : {}),
          team: one('team'),
          skill: one('skill'),
          actionType: one('actionType'),
          riskBand: one('riskBand'),
          assigneeId: one('assignee'),
        },
        { limit, after: one('after') },
      ),
    );
    return { items: page.items.map(toTaskView), ...(page.next ? { next: page.next } : {}) };
  }

  @Get('tenants/:tenant/review/tasks/:taskId')
  async get(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Param('taskId') taskId: string,
  ): Promise<TaskDetail> {
    const t = readable(p, tenant);
    const state = await domain(() => this.ctx.repo.load(t, taskId));
    const target = taskDetail(state, null);
    let record: TaskDetail['record'] = null;
    if (this.records && target.target.recordId) {
      try {
        const found = await this.records.read(t, target.target.objectType, target.target.recordId);
        if (found)
          record = {
            objectType: target.target.objectType,
            recordId: target.target.recordId,
            fields: redactRecord(found, p.roles),
          };
      } catch (err) {
        // The evidence view still works without the record; the console says it is missing.
        this.service.logger.warn(
          { err: err instanceof Error ? err.message : String(err), taskId, tenantId: t },
          'could not read the CRM record of a review task',
        );
      }
    }
    return { ...target, record };
  }

  @Post('tenants/:tenant/review/tasks/:taskId/claim')
  @HttpCode(200)
  async claim(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Param('taskId') taskId: string,
  ) {
    const t = writable(p, tenant, 'claim');
    await domain(() => this.queue.claim(t, taskId, p.id));
    await this.relay.kick();
    return stateView(await domain(() => this.ctx.repo.load(t, taskId)));
  }

  @Post('tenants/:tenant/review/tasks/:taskId/release')
  @HttpCode(200)
  async release(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Param('taskId') taskId: string,
  ) {
    const t = writable(p, tenant, 'release');
    await domain(() => this.queue.release(t, taskId, p.id));
    await this.relay.kick();
    return stateView(await domain(() => this.ctx.repo.load(t, taskId)));
  }

  /**
   * A decision. Idempotent on `reviewDecisionId` (body) or the `Idempotency-Key` header: the
   * same id again returns the recorded result with `duplicate: true` and changes nothing.
   */
  @Post('tenants/:tenant/review/tasks/:taskId/decision')
  @HttpCode(200)
  async decide(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Param('taskId') taskId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    const t = writable(p, tenant, 'decide');
    const input = decisionInput(body, p, t, taskId, idempotencyKey);
    const result = await domain(() => this.decisions.decide(t, taskId, p.id, input));
    if (!result.duplicate) await this.relay.kick();
    return decisionView(result);
  }

  @Post('tenants/:tenant/review/tasks/:taskId/comments')
  @HttpCode(201)
  async comment(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Param('taskId') taskId: string,
    @Body() body: unknown,
  ) {
    const t = writable(p, tenant, 'comment');
    const b = object(body);
    if (typeof b['text'] !== 'string')
      throw new BadRequestException('body must be {"text": "..."}');
    const commentId = optionalString(b, 'commentId');
    const text = b['text'];
    const c = await domain(() =>
      this.queue.comment(t, taskId, p.id, text, commentId ? { commentId } : {}),
    );
    return { id: c.id, authorId: c.authorId, text: c.text, at: c.at.toISOString() };
  }

  @Post('tenants/:tenant/review/batch-approve')
  @HttpCode(200)
  async batch(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Body() body: unknown,
  ) {
    const t = writable(p, tenant, 'approve');
    const b = object(body);
    const ids = b['taskIds'];
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === 'string'))
      throw new BadRequestException('body must be {"taskIds": ["<task id>", ...]}');
    const batchId = optionalString(b, 'batchId');
    const comment = optionalString(b, 'comment');
    const res = await domain(() =>
      this.decisions.approveBatch(t, p.id, ids as string[], { batchId, comment }),
    );
    if (res.approved > 0) await this.relay.kick();
    return {
      batchId: res.batchId,
      approved: res.approved,
      refused: res.refused,
      items: res.items.map((i) =>
        i.ok
          ? { ok: true, ...decisionView(i.result) }
          : { taskId: i.taskId, ok: false, code: i.code, reason: i.reason },
      ),
    };
  }

  @Get('tenants/:tenant/review/analytics')
  async report(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Query('from') fromRaw?: string,
    @Query('to') toRaw?: string,
  ) {
    const t = readable(p, tenant);
    if (!ANALYTICS_READERS.some((r) => p.roles.includes(r)))
      throw new ForbiddenException(
        `reviewer analytics need one of the roles ${ANALYTICS_READERS.join(', ')}`,
      );
    const to = fromRaw || toRaw ? date(toRaw, 'to', new Date()) : new Date();
    const from = date(fromRaw, 'from', new Date(to.getTime() - 30 * 24 * 3600_000));
    if (!(from < to)) throw new BadRequestException('from must be before to');
    const reviewers = await domain(() => this.analytics.report(t, { from, to }));
    return { tenantId: t, from: from.toISOString(), to: to.toISOString(), reviewers };
  }
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadRequestException('body must be a JSON object');
  return body as Record<string, unknown>;
}

function optionalString(b: Record<string, unknown>, key: string): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new BadRequestException(`${key} must be a string`);
  return v;
}

function date(raw: string | undefined, name: string, fallback: Date): Date {
  if (raw === undefined || raw === '') return fallback;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw new BadRequestException(`${name} must be an ISO date`);
  return d;
}

function decisionInput(
  body: unknown,
  p: AuthenticatedPrincipal,
  tenant: TenantId,
  taskId: string,
  idempotencyKey: string | undefined,
): DecisionInput {
  const b = object(body);
  const raw = b['outcome'];
  if (typeof raw !== 'string' || !(OUTCOMES as readonly string[]).includes(raw))
    throw new BadRequestException(`outcome must be one of ${OUTCOMES.join(', ')}`);
  const outcome = raw as DecisionInput['outcome'];
  const reasonCode = optionalString(b, 'reasonCode');
  const comment = optionalString(b, 'comment');
  let reviewDecisionId = optionalString(b, 'reviewDecisionId');
  if (!reviewDecisionId && idempotencyKey) {
    if (idempotencyKey.length > 200) throw new BadRequestException('Idempotency-Key is too long');
    // Scoped to the reviewer and the task: the same key elsewhere is another decision.
    reviewDecisionId = uuidFrom('http-decision', tenant, taskId, p.id, idempotencyKey);
  }
  const common = {
    ...(reviewDecisionId ? { reviewDecisionId } : {}),
    ...(comment ? { comment } : {}),
  };
  if (outcome === 'REJECT') {
    if (!reasonCode) throw new BadRequestException('a rejection needs a reasonCode');
    return { ...common, outcome, reasonCode };
  }
  if (outcome === 'APPROVE') return { ...common, outcome, ...(reasonCode ? { reasonCode } : {}) };
  const edited = b['editedAction'];
  if (typeof edited !== 'object' || edited === null || Array.isArray(edited))
    throw new BadRequestException(
      'EDIT_APPROVE needs editedAction, a CrmAction as JSON, e.g. {"applyDiscount": {...}}',
    );
  let editedAction: CrmAction;
  try {
    editedAction = CrmAction.fromJSON(edited);
  } catch (err) {
    throw new BadRequestException(
      `editedAction is not a CrmAction: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (!editedAction.kind)
    throw new BadRequestException('editedAction names no known action (e.g. "applyDiscount")');
  return { ...common, outcome, editedAction, ...(reasonCode ? { reasonCode } : {}) };
}

function decisionView(r: DecisionResult) {
  return {
    taskId: r.taskId,
    reviewDecisionId: r.review.reviewDecisionId,
    status: r.status,
    effect: r.effect,
    requiredApprovals: r.requiredApprovals,
    approvedBy: [...r.approvedBy],
    ...(r.reasons ? { reasons: [...r.reasons] } : {}),
    ...(r.recheck ? { recheckVerdict: verdictName(r.recheck.verdict) } : {}),
    duplicate: r.duplicate,
  };
}
