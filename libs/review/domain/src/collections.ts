import { defineCollection } from '@mandate/storage';
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
