import type { Reviewer, ReviewerDirectory, ReviewerRole } from '@mandate/review-domain';
import { isTenantId, type TenantId } from '@mandate/storage';

/** A reviewer directory configuration that cannot be used; the message names every problem. */
export class ReviewersConfigError extends Error {
  override readonly name = 'ReviewersConfigError';
}

const ROLES: readonly ReviewerRole[] = ['reviewer', 'supervisor', 'auditor', 'admin'];
const ID = /^[A-Za-z0-9._@:-]{1,128}$/;
const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * Parses and validates a reviewer list (`REVIEWERS`): a JSON array of
 * `{id, tenantId, teams, skills?, roles, active?, capacity?}`. Every problem is reported at once,
 * by position and id, never by value beyond the id.
 */
export function parseReviewers(input: string | unknown): Reviewer[] {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch {
      throw new ReviewersConfigError('reviewers: not valid JSON');
    }
  }
  if (!Array.isArray(raw)) throw new ReviewersConfigError('reviewers: expected a JSON array');
  const problems: string[] = [];
  const out: Reviewer[] = [];
  const seen = new Set<string>();
  raw.forEach((entry: unknown, i) => {
    const where = `reviewers[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${where}: expected an object`);
      return;
    }
    const e = entry as Record<string, unknown>;
    const id = e['id'];
    const label = typeof id === 'string' ? `${where} (${id})` : where;
    const before = problems.length;
    if (typeof id !== 'string' || !ID.test(id))
      problems.push(`${where}: id must be 1-128 of A-Z a-z 0-9 . _ @ : -`);
    else if (seen.has(id)) problems.push(`${label}: duplicate id`);
    else seen.add(id);
    if (typeof e['tenantId'] !== 'string' || !isTenantId(e['tenantId']))
      problems.push(`${label}: tenantId must be a valid tenant id`);
    const list = (key: string, required: boolean): string[] => {
      const v = e[key];
      if (v === undefined && !required) return [];
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && NAME.test(x))) {
        problems.push(`${label}: ${key} must be an array of lower-case names`);
        return [];
      }
      return v as string[];
    };
    const teams = list('teams', true);
    const skills = list('skills', false);
    const roles = e['roles'];
    if (
      !Array.isArray(roles) ||
      roles.length === 0 ||
      !roles.every((r) => ROLES.includes(r as ReviewerRole))
    )
      problems.push(`${label}: roles must be a non-empty array of ${ROLES.join(', ')}`);
    if (e['active'] !== undefined && typeof e['active'] !== 'boolean')
      problems.push(`${label}: active must be true or false`);
    const capacity = e['capacity'];
    if (capacity !== undefined && !(Number.isInteger(capacity) && (capacity as number) > 0))
      problems.push(`${label}: capacity must be a positive integer`);
    const known = new Set(['id', 'tenantId', 'teams', 'skills', 'roles', 'active', 'capacity']);
    for (const key of Object.keys(e))
      if (!known.has(key)) problems.push(`${label}: unknown field "${key}"`);
    if (problems.length > before) return;
    out.push({
      id: id as string,
      tenantId: e['tenantId'] as string,
      teams,
      skills,
      roles: roles as ReviewerRole[],
      active: (e['active'] as boolean | undefined) ?? true,
      ...(capacity !== undefined ? { capacity: capacity as number } : {}),
    });
  });
  if (problems.length)
    throw new ReviewersConfigError(`invalid reviewers:\n- ${problems.join('\n- ')}`);
  return out;
}

/** A reviewer directory from configuration (`REVIEWERS`); one tenant per reviewer. */
export class StaticReviewerDirectory implements ReviewerDirectory {
  private readonly byId: ReadonlyMap<string, Reviewer>;

  constructor(reviewers: readonly Reviewer[]) {
    this.byId = new Map(parseReviewers(reviewers).map((r) => [r.id, r]));
  }

  async reviewer(tenant: TenantId, reviewerId: string): Promise<Reviewer | undefined> {
    const r = this.byId.get(reviewerId);
    return r && r.tenantId === tenant ? r : undefined;
  }

  async reviewers(tenant: TenantId): Promise<readonly Reviewer[]> {
    return [...this.byId.values()].filter((r) => r.tenantId === tenant);
  }

  /** The reviewer with this id, whatever the tenant (dev login only). */
  find(reviewerId: string): Reviewer | undefined {
    return this.byId.get(reviewerId);
  }

  /** Tenants that have at least one reviewer: the SLA sweep's default tenant list. */
  tenants(): TenantId[] {
    return [...new Set([...this.byId.values()].map((r) => r.tenantId as TenantId))];
  }
}
