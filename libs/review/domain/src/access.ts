import type { TenantId } from '@mandate/storage';
import { NotAuthorisedError, NotEligibleError } from './errors';
import type { Reviewer } from './ports';

/**
 * Authorisation in the domain, whatever the transport: a reviewer or supervisor of the task's
 * tenant may claim and decide; an auditor never may (even one who also holds a reviewer role:
 * whoever audits decisions does not make them); admins administer, they do not review.
 */
export function authoriseReviewer(
  reviewer: Reviewer | undefined,
  reviewerId: string,
  tenant: TenantId,
): Reviewer {
  if (!reviewer)
    throw new NotAuthorisedError(
      'UNKNOWN_REVIEWER',
      `${reviewerId} is not a reviewer of ${tenant}`,
    );
  if (reviewer.tenantId !== tenant)
    throw new NotAuthorisedError('OTHER_TENANT', `${reviewerId} is not a reviewer of ${tenant}`);
  if (!reviewer.active)
    throw new NotAuthorisedError('INACTIVE', `${reviewerId} is not an active reviewer`);
  if (reviewer.roles.includes('auditor'))
    throw new NotAuthorisedError(
      'AUDITOR',
      `${reviewerId} is an auditor: auditors review the record, they do not decide`,
    );
  if (!reviewer.roles.includes('reviewer') && !reviewer.roles.includes('supervisor'))
    throw new NotAuthorisedError(
      'ROLE',
      `${reviewerId} has neither the reviewer nor the supervisor role`,
    );
  return reviewer;
}

export const isSupervisor = (r: Reviewer) => r.roles.includes('supervisor');

/**
 * Whether the reviewer works the task's queue: a supervisor works every queue of the tenant; a
 * reviewer needs the task's (current tier's) team and its skill, if any.
 */
export function eligibility(
  reviewer: Reviewer,
  task: { readonly team: string; readonly skill: string },
): NotEligibleError | undefined {
  if (isSupervisor(reviewer)) return undefined;
  if (!reviewer.teams.includes(task.team))
    return new NotEligibleError('TEAM', `${reviewer.id} is not in team ${task.team}`);
  if (task.skill && !reviewer.skills.includes(task.skill))
    return new NotEligibleError('SKILL', `${reviewer.id} lacks the skill ${task.skill}`);
  return undefined;
}
