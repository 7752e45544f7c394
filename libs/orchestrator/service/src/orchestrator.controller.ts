import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  ParseIntPipe,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import type { PlanDoc } from '@mandate/orchestrator-domain';
import {
  NoActivePromptError,
  PromptConflictError,
  PromptLifecycleError,
  PromptNotFoundError,
  PromptRegistry,
  PromptValidationError,
  parsePromptFile,
} from '@mandate/prompt-registry';
import { isTenantId, type DocumentStore, type TenantId } from '@mandate/storage';
import { ApiAuthGuard, AuthPrincipal, type AuthenticatedPrincipal } from '@mandate/platform';

/** May propose, approve, activate, roll back and retire prompts (never their own: two people). */
export const PROMPT_ADMIN_ROLE = 'prompt-admin';
/** Roles that may read any tenant's plans; tenant-bound principals read their own tenant's. */
const PLAN_READERS = ['auditor', 'policy-admin', PROMPT_ADMIN_ROLE];

export const PLAN_STORE = Symbol('PLAN_STORE');

/**
 * The orchestrator's operator API (bearer tokens, MANDATE_API_TOKENS):
 * - prompts: list, versions, diff, propose (a prompt file's text), approve, activate, rollback,
 *   retire. The registry enforces the lifecycle and the two-person rule; the principal's id is
 *   the actor recorded on the version.
 * - plans: one plan with its steps, budget and usage (tenant-scoped).
 */
@Controller('v1')
@UseGuards(ApiAuthGuard)
export class OrchestratorController {
  constructor(
    private readonly prompts: PromptRegistry,
    @Inject(PLAN_STORE) private readonly plans: DocumentStore<PlanDoc>,
  ) {}

  @Get('prompts/:promptId/versions')
  async versions(@Param('promptId') promptId: string) {
    return { versions: await registryCall(() => this.prompts.list(promptId)) };
  }

  @Get('prompts/:promptId/active')
  async active(@Param('promptId') promptId: string) {
    return await registryCall(() => this.prompts.active(promptId));
  }

  @Get('prompts/:promptId/history')
  async history(@Param('promptId') promptId: string) {
    return { history: await registryCall(() => this.prompts.history(promptId)) };
  }

  @Get('prompts/:promptId/diff')
  async diff(
    @Param('promptId') promptId: string,
    @Query('from', ParseIntPipe) from: number,
    @Query('to', ParseIntPipe) to: number,
  ) {
    return { diff: await registryCall(() => this.prompts.diff(promptId, from, to)) };
  }

  /** Proposes a new draft from a prompt file's text (`{file: "---\nid: …"}`). */
  @Post('prompts/:promptId/versions')
  async propose(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('promptId') promptId: string,
    @Body() body: { file?: unknown },
  ) {
    admin(p);
    if (typeof body?.file !== 'string')
      throw new BadRequestException('body must be {"file": "<the prompt.md text>"}');
    const file = body.file;
    const parsed = await registryCall(async () => parsePromptFile(file));
    if (parsed.promptId !== promptId)
      throw new BadRequestException(`the file is prompt "${parsed.promptId}", not "${promptId}"`);
    return await registryCall(() => this.prompts.propose(promptId, parsed.content, p.id));
  }

  @Post('prompts/:promptId/versions/:version/approve')
  @HttpCode(200)
  async approve(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('promptId') promptId: string,
    @Param('version', ParseIntPipe) version: number,
  ) {
    admin(p);
    return await registryCall(() => this.prompts.approve(promptId, version, p.id));
  }

  @Post('prompts/:promptId/versions/:version/activate')
  @HttpCode(200)
  async activate(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('promptId') promptId: string,
    @Param('version', ParseIntPipe) version: number,
  ) {
    admin(p);
    return await registryCall(() => this.prompts.activate(promptId, version, p.id));
  }

  @Post('prompts/:promptId/versions/:version/rollback')
  @HttpCode(200)
  async rollback(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('promptId') promptId: string,
    @Param('version', ParseIntPipe) version: number,
    @Body() body: { reason?: unknown },
  ) {
    admin(p);
    const reason = typeof body?.reason === 'string' ? body.reason : '';
    return await registryCall(() => this.prompts.rollback(promptId, version, p.id, reason));
  }

  @Post('prompts/:promptId/versions/:version/retire')
  @HttpCode(200)
  async retire(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('promptId') promptId: string,
    @Param('version', ParseIntPipe) version: number,
    @Body() body: { reason?: unknown },
  ) {
    admin(p);
    const reason = typeof body?.reason === 'string' ? body.reason : undefined;
    return await registryCall(() => this.prompts.retire(promptId, version, p.id, reason));
  }

  /** One plan: objective, target, status, steps (tokens only, never personal values), usage. */
  @Get('tenants/:tenant/plans/:planId')
  async plan(
    @AuthPrincipal() p: AuthenticatedPrincipal,
    @Param('tenant') tenant: string,
    @Param('planId') planId: string,
  ) {
    if (!isTenantId(tenant)) throw new BadRequestException('invalid tenant id');
    if (!PLAN_READERS.some((r) => p.roles.includes(r)) && p.tenantId !== tenant)
      throw new ForbiddenException(`not allowed to read tenant ${tenant}'s plans`);
    const plan = await this.plans.get(tenant as TenantId, planId);
    if (!plan) throw new NotFoundException(`no plan ${planId} in tenant ${tenant}`);
    return {
      ...plan,
      // The encoded proposal is internal (the other step fields say what it is).
      steps: plan.steps.map(({ proposal: _encoded, ...step }) => step),
    };
  }
}

function admin(p: AuthenticatedPrincipal): void {
  if (!p.roles.includes(PROMPT_ADMIN_ROLE))
    throw new ForbiddenException(`changing prompts needs the ${PROMPT_ADMIN_ROLE} role`);
}

async function registryCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PromptValidationError) throw new BadRequestException(err.message);
    if (err instanceof PromptNotFoundError || err instanceof NoActivePromptError)
      throw new NotFoundException(err.message);
    // A lifecycle refusal (own version, wrong status) or a concurrent change: a state conflict.
    if (err instanceof PromptLifecycleError || err instanceof PromptConflictError)
      throw new ConflictException(err.message);
    throw err;
  }
}
