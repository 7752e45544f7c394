import { BadRequestException, ForbiddenException, HttpException, HttpStatus } from '@nestjs/common';
import {
  FourEyesViolationError,
  HandOffAlreadyClaimedError,
  HandOffClosedError,
  HandOffContentionError,
  HandOffNotFoundError,
  InvalidDecisionError,
  NotAuthorisedError,
  NotEligibleError,
  PolicyRecheckError,
  PolicyUnavailableError,
  ReviewError,
  TaskAlreadyClaimedError,
  TaskClosedError,
  TaskContentionError,
  TaskExpiredError,
  TaskNotFoundError,
} from '@mandate/review-domain';
import type { AuthenticatedPrincipal } from '@mandate/platform';
import { isTenantId, type TenantId } from '@mandate/storage';

/**
 * Tenant isolation for every route of the review service: a principal reads only the tenant of
 * its token (`tenantId` claim === `:tenant`), whatever its roles. Nobody reads across tenants: a
 * principal with no tenant (an operator token without `tenantId`, an OIDC token without the
 * tenant claim, `admin` or not) is 403 on every tenant's routes.
 */
export function readable(p: AuthenticatedPrincipal, tenant: string): TenantId {
  if (!isTenantId(tenant)) throw new BadRequestException('invalid tenant id');
  if (p.tenantId !== tenant)
    throw new ForbiddenException(`${p.id} has no access to tenant ${tenant}`);
  return tenant;
}

/** Writes: only the principal's own tenant, never as an auditor (the domain checks the rest). */
export function writable(p: AuthenticatedPrincipal, tenant: string, what: string): TenantId {
  if (!isTenantId(tenant)) throw new BadRequestException('invalid tenant id');
  if (p.tenantId !== tenant)
    throw new ForbiddenException(`${p.id} has no access to tenant ${tenant}`);
  if (p.roles.includes('auditor'))
    throw new ForbiddenException(`${p.id} is an auditor: auditors may read but not ${what}`);
  return tenant;
}

/** Runs a domain call, mapping its refusals to HTTP statuses with their messages and codes. */
export async function domain<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof ReviewError)) throw err;
    throw new HttpException(
      {
        statusCode: statusOf(err),
        error: err.name,
        code: err.code,
        message: err.message,
        ...('reason' in err && typeof err.reason === 'string' ? { reason: err.reason } : {}),
      },
      statusOf(err),
    );
  }
}

function statusOf(err: ReviewError): number {
  if (err instanceof TaskNotFoundError || err instanceof HandOffNotFoundError)
    return HttpStatus.NOT_FOUND;
  if (err instanceof NotAuthorisedError) return HttpStatus.FORBIDDEN;
  if (err instanceof NotEligibleError)
    return err.reason === 'ALREADY_APPROVED' ? HttpStatus.CONFLICT : HttpStatus.FORBIDDEN;
  if (err instanceof FourEyesViolationError) return HttpStatus.FORBIDDEN;
  if (
    err instanceof TaskAlreadyClaimedError ||
    err instanceof TaskClosedError ||
    err instanceof TaskExpiredError ||
    err instanceof TaskContentionError ||
    err instanceof HandOffAlreadyClaimedError ||
    err instanceof HandOffClosedError ||
    err instanceof HandOffContentionError
  )
    return HttpStatus.CONFLICT;
  if (err instanceof InvalidDecisionError) return HttpStatus.BAD_REQUEST;
  if (err instanceof PolicyRecheckError) return HttpStatus.BAD_GATEWAY;
  if (err instanceof PolicyUnavailableError) return HttpStatus.SERVICE_UNAVAILABLE;
  return HttpStatus.BAD_REQUEST;
}

/** Runs `fn`; a failure of the kind `unavailable` (a dependency that did not answer) is a 503. */
export async function unavailableAs503<T>(
  unavailable: abstract new (...args: never[]) => Error,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof unavailable)
      throw new HttpException(
        { statusCode: 503, message: err.message },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    throw err;
  }
}

/**
 * Reads a list route's query: `one(key)` (given at most once; empty is absent), `statuses(allowed)`
 * (comma-separated, upper-cased, each one of `allowed`) and `limit()` (an integer 1..500).
 */
export function listQuery(q: Record<string, string | string[] | undefined>) {
  const one = (key: string): string | undefined => {
    const v = q[key];
    if (Array.isArray(v)) throw new BadRequestException(`${key} may be given once`);
    return v === undefined || v === '' ? undefined : v;
  };
  return {
    one,
    statuses<S extends string>(allowed: readonly S[]): S[] | undefined {
      const status = one('status')
        ?.split(',')
        .map((x) => x.trim().toUpperCase());
      if (status?.some((x) => !allowed.includes(x as S)))
        throw new BadRequestException(`status must be one or more of ${allowed.join(', ')}`);
      return status as S[] | undefined;
    },
    limit(): number | undefined {
      const raw = one('limit');
      const limit = raw === undefined ? undefined : Number(raw);
      if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 500))
        throw new BadRequestException('limit must be an integer from 1 to 500');
      return limit;
    },
  };
}
