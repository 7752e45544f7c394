import { defineCollection } from '@mandate/storage';
import type { HandOffTaskDoc } from './handoff-task.doc';
import type { ReviewTaskDoc } from './review-task.doc';

export const REVIEW_TASKS = defineCollection<ReviewTaskDoc>({
  name: 'review_tasks',
  indexes: [
    {
      name: 'queue',
      keys: { status: 1, dueAt: 1 },
      why: 'The review queue lists open tasks of a tenant by due time.',
    },
    {
      name: 'timers',
      keys: { status: 1, nextTimerAt: 1 },
      why: 'The SLA sweep finds active tasks whose next timer (warning, deadline, lease) is due.',
    },
    {
      name: 'decided',
      keys: { lastDecisionAt: 1 },
      why: 'Reviewer analytics read the tasks decided on within a period.',
    },
  ],
});

/** One tenant that has had a review task. `id` is the tenant id; never updated, never deleted. */
export interface ReviewTenantDoc {
  id: string;
  /** When this service first opened a task for the tenant (informational). */
  firstTaskAt: Date;
}

/**
 * Tenants with review tasks (`review_tenants`), so the SLA sweep finds every tenant's open tasks
 * after a restart, whether or not it has configured reviewers. The task store is tenant-scoped
 * with no cross-tenant query; this is the one list across tenants. Its documents live under the
 * platform's system tenant (`REVIEW_TENANTS_SCOPE`), as policy bundles and prompts do. Hot path:
 * `_id` inserts; the sweep reads the whole (small) list.
 */
export const REVIEW_TENANTS = defineCollection<ReviewTenantDoc>({
  name: 'review_tenants',
  indexes: [],
});

/**
 * Hand-off tasks (`handoff_tasks`): work agents handed to a person, one per hand-off id (a plan's
 * final hand-off, or an escalation a step made while its plan went on). Apart from `review_tasks`: nothing here is approved or re-checked by policy.
 * Hot paths are `_id` gets and conditional updates; the queue lists a tenant's by status.
 */
export const HANDOFF_TASKS = defineCollection<HandOffTaskDoc>({
  name: 'handoff_tasks',
  indexes: [
    {
      name: 'queue',
      keys: { status: 1, handedOffAt: 1 },
      why: "The hand-off queue lists a tenant's open (or resolved) hand-offs, oldest first.",
    },
  ],
});
