/**
 * Name pools and catalogues of the demo dataset. Every person and company is fictitious; the
 * surname pool deliberately avoids the most common surnames, so random pairings do not land on
 * well-known people, and every company lives at a `.example` domain.
 */
import type { CustomerTier, Industry, Territory } from './types';

export interface DemoUser {
  readonly name: string;
  readonly role: 'sales_manager' | 'account_executive' | 'sdr' | 'support_agent';
  readonly team: 'sales' | 'sales-development' | 'support';
  readonly territory: Territory | 'GLOBAL';
  readonly active: boolean;
}

/** Acme Analytics' own people: `usr-0001` … in this order. */
export const DEMO_USERS: readonly DemoUser[] = [
  { name: 'Morgan Reyes', role: 'sales_manager', team: 'sales', territory: 'GLOBAL', active: true },
  {
    name: 'Priya Natarajan',
    role: 'account_executive',
    team: 'sales',
    territory: 'EMEA',
    active: true,
  },
  {
    name: 'Lukas Brandt',
    role: 'account_executive',
    team: 'sales',
    territory: 'EMEA',
    active: true,
  },
  { name: 'Jordan Blake', role: 'account_executive', team: 'sales', territory: 'NA', active: true },
  {
    name: 'Ava Lindqvist',
    role: 'account_executive',
    team: 'sales',
    territory: 'NA',
    active: true,
  },
  {
    name: 'Kenji Watanabe',
    role: 'account_executive',
    team: 'sales',
    territory: 'APAC',
    active: true,
  },
  {
    name: 'Chloé Marchand',
    role: 'sdr',
    team: 'sales-development',
    territory: 'EMEA',
    active: true,
  },
  { name: 'Marcus Okafor', role: 'sdr', team: 'sales-development', territory: 'NA', active: true },
  { name: 'Mei Lin Tan', role: 'sdr', team: 'sales-development', territory: 'APAC', active: true },
  {
    name: 'Elena Petrova',
    role: 'support_agent',
    team: 'support',
    territory: 'EMEA',
    active: true,
  },
  { name: 'Diego Alvarado', role: 'support_agent', team: 'support', territory: 'NA', active: true },
  // Left the company; still owns a few records nobody reassigned.
  {
    name: 'Greg Novakovic',
    role: 'account_executive',
    team: 'sales',
    territory: 'NA',
    active: false,
  },
];

export interface DemoAccount {
  readonly name: string;
  readonly industry: Industry;
  readonly country: string;
  readonly tier: CustomerTier;
  readonly status: 'customer' | 'prospect' | 'churned';
}

type AccountRow = readonly [string, Industry, string, CustomerTier, DemoAccount['status']];

/** Acme Analytics' customers and prospects: `acc-0001` … in this order. */
const ACCOUNT_ROWS: readonly AccountRow[] = [
  ['Helios Capital Partners', 'finance', 'GB', 'strategic', 'customer'],
  ['Brightline Retail Group', 'retail', 'US', 'enterprise', 'customer'],
  ['Meridian Freight', 'logistics', 'DE', 'enterprise', 'customer'],
  ['Kestrel Mutual Insurance', 'insurance', 'US', 'enterprise', 'prospect'],
  ['Larkspur Health Network', 'health', 'US', 'strategic', 'customer'],
  ['Orion Components', 'manufacturing', 'JP', 'mid-market', 'customer'],
  ['Tidewater Logistics', 'logistics', 'NL', 'mid-market', 'customer'],
  ['Bluefin Software', 'software', 'SE', 'mid-market', 'customer'],
  ['Cobalt Ridge Bank', 'finance', 'US', 'strategic', 'customer'],
  ['Verdant Grocers', 'retail', 'GB', 'mid-market', 'customer'],
  ['Northgate University', 'education', 'US', 'enterprise', 'customer'],
  ['Silverpine County', 'public-sector', 'US', 'mid-market', 'prospect'],
  ['Aurora Medical Group', 'health', 'DE', 'enterprise', 'customer'],
  ['Granite Peak Manufacturing', 'manufacturing', 'US', 'enterprise', 'customer'],
  ['Quillon Assurance', 'insurance', 'FR', 'enterprise', 'customer'],
  ['Harbor & Vine Home Goods', 'retail', 'AU', 'smb', 'customer'],
  ['Pikelet Labs', 'software', 'AU', 'smb', 'customer'],
  ['Ironleaf Engineering', 'manufacturing', 'DE', 'mid-market', 'prospect'],
  ['Saffron Pay', 'finance', 'SG', 'enterprise', 'customer'],
  ['Lumen Care Clinics', 'health', 'GB', 'mid-market', 'customer'],
  ['Redwood Ridge School District', 'education', 'US', 'smb', 'customer'],
  ['Copperline Transit Authority', 'public-sector', 'CA', 'enterprise', 'prospect'],
  ['Stellar Outfitters', 'retail', 'US', 'mid-market', 'churned'],
  ['Nimbus Cloudworks', 'software', 'US', 'smb', 'customer'],
  ['Eastwind Shipping', 'logistics', 'SG', 'enterprise', 'customer'],
  ['Maplefield Credit Union', 'finance', 'CA', 'mid-market', 'customer'],
  ['Cedar Grove Insurance', 'insurance', 'IE', 'smb', 'prospect'],
  ['Polaris Diagnostics', 'health', 'CH', 'mid-market', 'prospect'],
  ['Tessellate Robotics', 'manufacturing', 'KR', 'enterprise', 'customer'],
  ['Wavecrest Software', 'software', 'IN', 'mid-market', 'customer'],
  ['Halden Polytechnic', 'education', 'SE', 'mid-market', 'prospect'],
  ['Vireo Logistics', 'logistics', 'US', 'smb', 'churned'],
  ['Amberly Fashion House', 'retail', 'FR', 'enterprise', 'customer'],
  ['Fjordline Marine Systems', 'manufacturing', 'NO', 'mid-market', 'customer'],
  ['Summit Reinsurance', 'insurance', 'CH', 'strategic', 'customer'],
  ['Kinto Pharmacies', 'health', 'JP', 'enterprise', 'customer'],
  ['Bayside City Council', 'public-sector', 'AU', 'smb', 'customer'],
  ['Quartzline Semiconductors', 'manufacturing', 'TW', 'enterprise', 'customer'],
  ['Pennant Wealth Management', 'finance', 'US', 'mid-market', 'churned'],
  ['Lattice Learning', 'education', 'GB', 'smb', 'customer'],
];

export const DEMO_ACCOUNTS: readonly DemoAccount[] = ACCOUNT_ROWS.map(
  ([name, industry, country, tier, status]) => ({ name, industry, country, tier, status }),
);

export const COUNTRY_TERRITORY: Readonly<Record<string, Territory>> = {
  GB: 'EMEA',
  DE: 'EMEA',
  FR: 'EMEA',
  NL: 'EMEA',
  SE: 'EMEA',
  NO: 'EMEA',
  IE: 'EMEA',
  CH: 'EMEA',
  ES: 'EMEA',
  IT: 'EMEA',
  PL: 'EMEA',
  AE: 'EMEA',
  ZA: 'EMEA',
  US: 'NA',
  CA: 'NA',
  JP: 'APAC',
  AU: 'APAC',
  SG: 'APAC',
  KR: 'APAC',
  IN: 'APAC',
  TW: 'APAC',
  NZ: 'APAC',
};

/** Weighted countries for leads (most inbound interest is from North America and Europe). */
export const LEAD_COUNTRIES: readonly (readonly [string, number])[] = [
  ['US', 30],
  ['GB', 12],
  ['DE', 10],
  ['CA', 6],
  ['FR', 6],
  ['NL', 5],
  ['AU', 5],
  ['IN', 5],
  ['SG', 4],
  ['JP', 4],
  ['ES', 3],
  ['IT', 3],
  ['SE', 3],
  ['PL', 2],
  ['AE', 2],
  ['ZA', 2],
  ['NZ', 2],
];

/** Currency of a deal, by the account's country. */
export function currencyFor(country: string): 'USD' | 'EUR' | 'GBP' {
  if (country === 'GB') return 'GBP';
  if (['DE', 'FR', 'NL', 'IE', 'ES', 'IT'].includes(country)) return 'EUR';
  return 'USD';
}

/** Country calling codes for the (fictional, 555-01xx style) phone numbers. */
export const CALLING_CODES: Readonly<Record<string, string>> = {
  GB: '+44',
  DE: '+49',
  FR: '+33',
  NL: '+31',
  SE: '+46',
  NO: '+47',
  IE: '+353',
  CH: '+41',
  ES: '+34',
  IT: '+39',
  PL: '+48',
  AE: '+971',
  ZA: '+27',
  US: '+1',
  CA: '+1',
  JP: '+81',
  AU: '+61',
  SG: '+65',
  KR: '+82',
  IN: '+91',
  TW: '+886',
  NZ: '+64',
};

export const FIRST_NAMES: readonly string[] = (
  'Aaliyah Adebayo Agnieszka Aiko Alejandro Amara Anders Anika Arjun Beatriz Bilal ' +
  'Bronwyn Caleb Camille Chen Chiara Colm Dario Deepa Dmitri Eamon Elif Emeka Esme ' +
  'Farah Felix Freya Gideon Greta Hamid Hana Ingrid Isaac Jae-won Jasper Jovana ' +
  'Kaito Keira Kofi Lars Leilani Lorenzo Lucia Maeve Malik Marisol Matteo Mira ' +
  'Nadia Niamh Nikhil Odile Olufemi Oskar Paloma Pieter Quinn Rafael Rania Reuben ' +
  'Rhea Rosalind Rowan Saoirse Selin Soren Tamsin Tariq Thea Tobias Valentina ' +
  'Vikram Wren Xavier Yara Yusuf Zofia Zoltan'
).split(' ');

export const LAST_NAMES: readonly string[] = (
  'Abernathy Achterberg Adeyemi Albescu Arkwright Balogun Bergström Castellanos ' +
  'Chaudhary Ciobanu Dalgaard Delacroix Dunleavy Eriksdottir Fairbairn Falkenrath ' +
  'Fitzwilliam Gallardo Grünewald Halvorsen Hargreave Ishikawa Jablonski Kavanagh ' +
  'Kowalczyk Laurentis Lindahl Mabuza Marchetti Mbeki-Stone Nakamura-Price ' +
  'Nwachukwu Oyelaran Pemberton Quintero Rasmussen Ravensworth Saarinen Santorelli ' +
  'Szabo Takahara Thorvaldsen Underhill Vasquez-Moreau Vennström Wakefield-Ito ' +
  'Whitcombe Yilmazer Zielinski Zuberi'
).split(' ');

/** Job titles by how much a contact or lead decides about a data platform. */
export const TITLES = {
  executive: [
    'Chief Data Officer',
    'CIO',
    'CTO',
    'CFO',
    'VP Data & Analytics',
    'VP Engineering',
    'VP Operations',
  ],
  manager: [
    'Head of Business Intelligence',
    'Director of Analytics',
    'Data Platform Lead',
    'IT Director',
    'Procurement Manager',
    'Head of Finance Systems',
    'Compliance Manager',
  ],
  practitioner: [
    'Data Engineer',
    'Senior Data Analyst',
    'BI Developer',
    'Analytics Engineer',
    'Data Scientist',
    'Database Administrator',
    'Reporting Analyst',
  ],
} as const;

/** Fictitious competitors of Acme Analytics. */
export const COMPETITORS: readonly string[] = [
  'Quantivo',
  'DataForge',
  'InsightHub',
  'Lakeshore Data',
  'Metricly Cloud',
];

export const EVENTS: readonly string[] = [
  'Data Leaders Summit London',
  'Analytics Week Berlin',
  'the Chicago BI Forum',
  'CloudData Expo Singapore',
  'our Sydney roadshow',
];

/** Parts for the companies of leads (accounts have hand-written names above). */
export const COMPANY_PREFIXES: readonly string[] = (
  'Alder|Amberfield|Blue Harbor|Brackenridge|Crestline|Driftwood|Elmstead|' +
  'Fernhollow|Foxglove|Glenmoor|Hawthorne Vale|Highmark|Juniper|Kingsbridge|' +
  'Larchmont|Lodestar|Marigold|Millbrook|Moonridge|Northwall|Oakhaven|Opaline|' +
  'Pebblestone|Quarry Hill|Ravenmoor|Rosewater|Saltmarsh|Starling|Stonebridge|' +
  'Thistledown|Umbra|Valewood|Westbrook|Willowmere|Yarrow'
).split('|');

export const COMPANY_SUFFIXES: Readonly<Record<Industry, readonly string[]>> = {
  finance: ['Capital', 'Bank', 'Asset Management', 'Lending', 'Payments'],
  health: ['Health', 'Medical Group', 'Clinics', 'Care Partners', 'Diagnostics'],
  insurance: ['Insurance', 'Mutual', 'Assurance', 'Underwriters'],
  logistics: ['Freight', 'Logistics', 'Shipping', 'Distribution'],
  retail: ['Outfitters', 'Markets', 'Retail', 'Home & Garden', 'Apparel'],
  manufacturing: ['Industries', 'Manufacturing', 'Components', 'Fabrication', 'Plastics'],
  software: ['Labs', 'Software', 'Systems', 'Cloud', 'Digital'],
  education: ['University', 'Academy', 'College', 'Learning Trust'],
  'public-sector': ['County', 'City Council', 'Transit Authority', 'Water Board'],
};
