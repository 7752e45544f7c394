import { defineCollection } from '@mandate/storage';
import type { PlanDoc, PlanProposalDoc } from './plan-engine';

/**
 * Agent plans (one document per plan, its steps inside). Every read is by `_id` (the plan id, or
 * the proposal id in `plan_proposals`): MongoDB and FerretDB both serve these from the primary
 * key. The collection is new with multi-step plans; the one-step `plans` collection of earlier
 * versions (unique `proposalId`) is no longer read.
 */
export const PLANS = defineCollection<PlanDoc>({ name: 'agent_plans', indexes: [] });

export const PLAN_PROPOSALS = defineCollection<PlanProposalDoc>({
  name: 'plan_proposals',
  indexes: [],
});
