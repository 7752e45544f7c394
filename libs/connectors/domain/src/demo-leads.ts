/**
 * A few demo leads for the walking skeleton (the connector issue brings the full dataset).
 * Names and addresses are fictitious.
 */
export const DEMO_LEADS: Array<{ id: string; fields: Record<string, unknown> }> = [
  {
    id: 'lead-0001',
    fields: {
      name: 'Dana Whitfield',
      email: 'dana.whitfield@northwind-logistics.example',
      company: 'Northwind Logistics',
      title: 'VP Operations',
      employees: 850,
      industry: 'logistics',
      source: 'demo-request',
      notes: 'Asked for pricing for 200 seats and a rollout timeline before Q3.',
      status: 'New',
    },
  },
  {
    id: 'lead-0002',
    fields: {
      name: 'Sam Ortega',
      email: 'sam.ortega@gmail.com',
      company: '',
      title: 'Student',
      employees: 1,
      industry: 'education',
      source: 'web',
      notes: 'Downloaded the whitepaper.',
      status: 'New',
    },
  },
];
