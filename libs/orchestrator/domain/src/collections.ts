import { defineCollection } from '@mandate/storage';
import type { PlanDoc } from './plan.runner';

export const PLANS = defineCollection<PlanDoc>({
  name: 'plans',
  indexes: [
    {
      name: 'by_proposal',
      keys: { proposalId: 1 },
      unique: true,
      why: 'Outcome events name the proposal; the plan is found by it.',
    },
  ],
});
