import { defineCollection } from '@mandate/storage';
import type { DecisionDoc } from './decision.service';

/** One document per decided proposal (id = proposal id). */
export const DECISIONS = defineCollection<DecisionDoc>({ name: 'decisions', indexes: [] });
