import { defineCollection } from '@mandate/storage';
import type { ReviewTaskDoc } from './review-task.opener';

export const REVIEW_TASKS = defineCollection<ReviewTaskDoc>({
  name: 'review_tasks',
  indexes: [
    {
      name: 'queue',
      keys: { status: 1, dueAt: 1 },
      why: 'The review queue lists open tasks of a tenant by due time.',
    },
  ],
});
