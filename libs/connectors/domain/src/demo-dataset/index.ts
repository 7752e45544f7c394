/**
 * A realistic, deterministic demo CRM for the embedded mode: "Acme Analytics", a B2B SaaS company
 * selling a data platform. About 565 records: 12 users (account executives per territory, SDRs,
 * support agents, a sales manager, one who has left), 40 accounts (regulated industries among
 * them), ~120 contacts, 120 leads (hot, cold, junk; the two `DEMO_LEADS` first, unchanged), ~60
 * opportunities, ~60 cases (routine to furious) and ~150 activities (emails, calls, meetings,
 * notes). Everything is fictitious: people and companies are made up, and every address is at a
 * `.example` domain except `sam.ortega@gmail.com` of the original demo leads.
 *
 * Deliberate traps for an agent (duplicate names, ambiguous emails, prompt injections, a deal-desk
 * discount, opted-out and consent-unknown people, an orphaned owner) are listed, with their record
 * ids, in `DEMO_SCENARIOS` (scenarios.ts).
 */
import { generateDemoDataset } from './generator';
import { DEMO_OBJECT_TYPES } from './types';
import type { DemoObjectType, DemoRecord } from './types';

export {
  DEMO_DATASET_SEED,
  DEMO_REFERENCE_DATE,
  generateDemoDataset,
  type DemoDatasetOptions,
} from './generator';
export {
  DEMO_SCENARIOS,
  FOREIGN_TENANT,
  TYPICAL_DISCOUNT_CEILING_PERCENT,
  type DemoScenarioName,
} from './scenarios';
export {
  EXFILTRATION_ADDRESS,
  FREE_MAIL_DOMAINS,
  VENDOR_DOMAIN,
  isAllowedDemoEmail,
  isFreeMail,
} from './emails';
export {
  DEMO_OBJECT_TYPES,
  REGULATED_INDUSTRIES,
  type CustomerTier,
  type DemoFieldValue,
  type DemoObjectType,
  type DemoRecord,
  type Industry,
  type Territory,
} from './types';

/**
 * The demo CRM of "Acme Analytics" (see `generateDemoDataset` and `DEMO_SCENARIOS`): generated
 * once with the default seed, frozen, the same on every run.
 */
export const DEMO_DATASET: readonly DemoRecord[] = Object.freeze(
  generateDemoDataset().map((record) =>
    Object.freeze({ ...record, fields: Object.freeze({ ...record.fields }) }),
  ),
);

export type DemoDatasetSummary = Record<DemoObjectType, number> & { total: number };

/** How many records of each type `records` (default: `DEMO_DATASET`) holds. */
export function demoDatasetSummary(
  records: readonly DemoRecord[] = DEMO_DATASET,
): DemoDatasetSummary {
  const summary = Object.fromEntries(DEMO_OBJECT_TYPES.map((type) => [type, 0])) as Record<
    DemoObjectType,
    number
  >;
  for (const record of records) summary[record.objectType] += 1;
  return { ...summary, total: records.length };
}

/** The records of one type, in dataset order. */
export function demoRecordsOf(
  objectType: DemoObjectType,
  records: readonly DemoRecord[] = DEMO_DATASET,
): DemoRecord[] {
  return records.filter((record) => record.objectType === objectType);
}
