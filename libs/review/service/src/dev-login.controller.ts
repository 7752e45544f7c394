import { BadRequestException, Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import type { LocalOidcIssuer } from '@mandate/platform';
import type { StaticReviewerDirectory } from './reviewer-directory';

export const DEV_LOGIN = Symbol('DEV_LOGIN');

/** What `POST /v1/dev/login` needs: the local issuer and who may sign in. */
export interface DevLogin {
  readonly issuer: LocalOidcIssuer;
  readonly reviewers: StaticReviewerDirectory;
  /** Token lifetime (default 8 h). */
  readonly ttlSeconds?: number;
}

/**
 * DEVELOPMENT ONLY (the embedded process; `apps/human-review` never registers it): signs a token
 * for a configured reviewer without any password, so the console can be tried locally. Unknown
 * and inactive subjects are refused.
 */
@Controller('v1/dev')
export class DevLoginController {
  constructor(@Inject(DEV_LOGIN) private readonly dev: DevLogin) {}

  @Post('login')
  @HttpCode(200)
  login(@Body() body: unknown) {
    const sub = (body as { sub?: unknown } | null)?.sub;
    if (typeof sub !== 'string' || !sub)
      throw new BadRequestException('body must be {"sub": "<a configured reviewer id>"}');
    const r = this.dev.reviewers.find(sub);
    if (!r || !r.active)
      throw new BadRequestException(`${sub} is not a configured, active demo reviewer`);
    const ttl = this.dev.ttlSeconds ?? 8 * 3600;
    const token = this.dev.issuer.issue({
      sub: r.id,
      roles: [...r.roles],
      tenant: r.tenantId,
      ttlSeconds: ttl,
    });
    return {
      token,
      tokenType: 'Bearer',
      expiresIn: ttl,
      principal: { id: r.id, roles: [...r.roles], tenantId: r.tenantId },
    };
  }
}
