export const DEMO_OBJECT_TYPES = [
  'user',
  'account',
  'contact',
  'lead',
  'opportunity',
  'case',
  'activity',
] as const;

export type DemoObjectType = (typeof DEMO_OBJECT_TYPES)[number];

export type DemoFieldValue = string | number | boolean;

/** One record of the demo CRM: flat scalar fields only. */
export interface DemoRecord {
  readonly objectType: DemoObjectType;
  readonly id: string;
  readonly fields: Record<string, DemoFieldValue>;
}

export type Territory = 'EMEA' | 'NA' | 'APAC';

export type Industry =
  | 'finance'
  | 'health'
  | 'insurance'
  | 'logistics'
  | 'retail'
  | 'manufacturing'
  | 'software'
  | 'education'
  | 'public-sector';

/** Industries where data handling is regulated (a policy will want a human to look). */
export const REGULATED_INDUSTRIES: readonly Industry[] = ['finance', 'health', 'insurance'];

export type CustomerTier = 'strategic' | 'enterprise' | 'mid-market' | 'smb';
