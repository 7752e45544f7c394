/**
 * Free text of the demo dataset: lead notes, deal notes, support cases and emails, in the words
 * a rules-based agent has to read. Placeholders are `{name}`; see `fill`.
 */

/** Replaces every `{key}` with `vars[key]`; an unknown key is a bug in a template. */
export function fill(template: string, vars: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new Error(`template variable {${key}} has no value`);
    return String(value);
  });
}

/** Lead archetypes: what the notes say, and how the rest of the lead tends to look. */
export type LeadKind = 'hot' | 'warm' | 'cold' | 'student' | 'job-seeker' | 'spam' | 'vendor';

export const LEAD_NOTES: Readonly<Record<LeadKind | 'purchased-list', readonly string[]>> = {
  hot: [
    'Requested a demo for the {team} team. Budget of about ${budget}k approved for this fiscal year; wants to be live before {month}.',
    'Currently on {competitor}; their contract renews in {month}. Unhappy with query costs. Asked for pricing for {seats} seats.',
    'Met at {event}. Owns the decision on data tooling; asked for our security review package and SSO details.',
    'Referred by an existing customer. Timeline: pilot next month, production rollout in Q{quarter}. Budget ~${budget}k.',
    'Asked what a 3-year commitment for {seats} users would cost and whether we can sign before {month}.',
    'Evaluating us against {competitor} and {competitor2}. Shortlist decision in two weeks; CFO is involved.',
    'Needs to consolidate four reporting tools into one platform by {month}. {seats} analysts. Asked for a proposal.',
  ],
  warm: [
    'Attended the webinar on data quality; asked a follow-up question about dbt integration.',
    'Downloaded the ROI calculator. No timeline yet.',
    'Interested, but there is a budget freeze until the next fiscal year.',
    '{competitor} is the incumbent. Asked for case studies in {industry}.',
    'Visited the pricing page three times this week.',
    'Wants to understand data residency options before involving IT.',
    '',
  ],
  cold: [
    '',
    '',
    'Opened two newsletters, no clicks.',
    'Registered for a webinar but did not attend.',
  ],
  /** Cold leads bought from a list provider. */
  'purchased-list': [
    '',
    'Purchased list import; no engagement yet.',
    'Bounced once; address may be outdated.',
  ],
  student: [
    "Hi, I'm a student writing my thesis on modern data platforms. Can I get a free licence?",
    'Student project for a university course; wants access to the trial for a semester.',
  ],
  'job-seeker': [
    "Hello, I'm looking for a job as a data engineer. Who should I send my CV to?",
    'Asked about open positions in the sales team; not a buyer.',
  ],
  spam: [
    'We offer cheap SEO and link building services!!! Reply today for our best prices.',
    'Congratulations, your website has been selected for a free marketing audit. Click to claim.',
  ],
  vendor: [
    'Staffing agency offering offshore developers at low day rates.',
    'Wants to sell us office furniture; filled in the demo form to get a call.',
  ],
};

/** Companies of vendor leads, by the position of their note in `LEAD_NOTES.vendor`. */
export const VENDOR_COMPANY_SUFFIXES: readonly string[] = [
  'Staffing Solutions',
  'Office Interiors',
];

export const OPPORTUNITY_PRODUCTS: readonly string[] = [
  'Data Platform',
  'Governance Add-on',
  'Embedded Analytics',
  'Premium Support',
  'Platform Expansion',
  'Enterprise Renewal',
];

export const OPPORTUNITY_NOTES = {
  open: [
    'Champion is {contact}. Security review passed; legal is reviewing the MSA redlines.',
    'Customer wants to add {seats} seats for the {team} team mid-term.',
    'Pilot running with three data sources; success criteria agreed with {contact}.',
    '{competitor} is also in the evaluation. We lead on governance, they lead on price.',
    'Stalled: the champion changed roles. Need a new sponsor.',
    'Waiting for budget sign-off at the board meeting in {month}.',
    '',
    '',
  ],
  discount: [
    'Procurement asks for {discount}% off for a two-year commitment; within standard guidelines.',
    'Requested a {discount}% discount citing budget cuts; no competing offer documented.',
    '{discount}% multi-year discount agreed in principle with {contact}, pending approval.',
  ],
  won: [
    'Order form signed by {contact}. Kick-off scheduled.',
    'Won against {competitor} on governance and support quality.',
    'Renewal signed with a 3% uplift.',
  ],
  lost: [
    'Lost to {competitor} on price.',
    'No decision: project cancelled after a reorganisation.',
    'Lost: the customer built it in-house.',
  ],
} as const;

export type CaseTone = 'routine' | 'bug' | 'angry' | 'urgent' | 'privacy' | 'billing';

export interface CaseTemplate {
  readonly subject: string;
  readonly description: string;
}

/** Support cases, in the customer's own words. */
export const CASE_TEMPLATES: Readonly<Record<CaseTone, readonly CaseTemplate[]>> = {
  routine: [
    {
      subject: 'How do I schedule a CSV export?',
      description:
        "Hi, we'd like to export the {dashboard} dashboard to CSV every Monday morning. Is there a way to schedule that? Thanks!",
    },
    {
      subject: 'Add five new analysts to our workspace',
      description:
        'Can you help us add five new analysts to our workspace? Our admin is on leave until next week.',
    },
    {
      subject: 'SSO configuration question',
      description:
        "We're moving to a new identity provider next month. What do we need to change on your side for SSO?",
    },
    {
      subject: 'Question about API rate limits',
      description:
        'Our integration sometimes gets HTTP 429 responses. What are the limits per minute, and can they be raised?',
    },
    {
      subject: 'Request for your SOC 2 report',
      description:
        'Our auditors ask for your latest SOC 2 Type II report. Where can we download it?',
    },
    {
      subject: 'Training session for new team members',
      description:
        'We have three new colleagues on the {team} team. Do you offer a short onboarding session?',
    },
  ],
  bug: [
    {
      subject: '{dashboard} dashboard loading slowly',
      description:
        'Since last week the {dashboard} dashboard takes over a minute to load. It used to take a few seconds. Nothing changed on our side.',
    },
    {
      subject: 'Warehouse connector sync failing',
      description:
        'Our warehouse connector fails every night with a timeout error. The job log says "upstream closed connection". Can you take a look?',
    },
    {
      subject: 'Wrong totals in the revenue report',
      description:
        'The revenue report shows different totals than the underlying table for last month. Looks like refunds are counted twice.',
    },
    {
      subject: 'Scheduled report emails not arriving',
      description:
        'The weekly {dashboard} report email stopped arriving two weeks ago. Recipients have checked their spam folders.',
    },
  ],
  angry: [
    {
      subject: 'Third outage this month - unacceptable',
      description:
        "This is the THIRD time this month our pipelines have stopped. Our executives are looking at stale numbers again. If this isn't fixed properly by Friday we will look at cancelling our contract.",
    },
    {
      subject: 'Still waiting for a response!!!',
      description:
        'I opened a ticket two weeks ago and nobody has answered. This is really poor service for what we are paying. I want to speak to a manager.',
    },
    {
      subject: 'Charged twice - I want a refund now',
      description:
        'You charged our card twice for the same invoice. I expect the duplicate payment refunded today, not "within 10 business days".',
    },
  ],
  urgent: [
    {
      subject: 'Production pipeline down',
      description:
        'All of our scheduled jobs have failed since 02:00 UTC. Our month-end close depends on this. Please call me as soon as possible.',
    },
    {
      subject: 'Possible data exposure through a shared link',
      description:
        'A person outside our company could open one of our dashboards through a shared link. We need to know what was exposed and since when.',
    },
  ],
  privacy: [
    {
      subject: 'Delete my personal data',
      description:
        'Under the GDPR I ask you to delete all personal data you hold about me and to confirm in writing when it is done.',
    },
    {
      subject: 'Data processing agreement for our DPO',
      description:
        'Our data protection officer needs the signed DPA and the list of your sub-processors before we can load personal data.',
    },
  ],
  billing: [
    {
      subject: 'Invoice shows the wrong seat count',
      description:
        'Our latest invoice bills 120 seats, but we reduced to 95 at the renewal. Please send a corrected invoice.',
    },
    {
      subject: 'Change billing contact',
      description:
        'Please send future invoices to our accounts payable team instead of me. Their address is on the purchase order.',
    },
  ],
};

export const DASHBOARDS: readonly string[] = [
  'Sales Pipeline',
  'Inventory Health',
  'Claims Overview',
  'Shipment Tracking',
  'Finance Close',
  'Patient Flow',
  'Executive KPI',
];

export const TEAMS: readonly string[] = [
  'finance',
  'operations',
  'marketing analytics',
  'supply chain',
  'risk',
  'data engineering',
];

export const MONTHS: readonly string[] = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

export interface ActivityText {
  readonly subject: string;
  readonly body: string;
}

/** Activities around the records: what reps, SDRs and support agents did and received. */
export const ACTIVITY_TEXTS: {
  readonly leadOutreach: readonly ActivityText[];
  /** Replies to `leadOutreach`, by position. */
  readonly leadReply: readonly ActivityText[];
  readonly call: readonly ActivityText[];
  readonly meeting: readonly ActivityText[];
  readonly note: readonly ActivityText[];
  readonly caseFollowUp: readonly string[];
  readonly caseReply: readonly string[];
} = {
  leadOutreach: [
    {
      subject: 'Following up on your demo request',
      body: 'Hi {first}, thanks for your interest in Acme Analytics. Would Tuesday or Thursday work for a 30-minute demo?',
    },
    {
      subject: 'Quick question about {company}',
      body: 'Hi {first}, I noticed {company} is growing its {team} team. How are you handling reporting today?',
    },
    {
      subject: 'Resources you asked for',
      body: 'Hi {first}, as promised here are the {industry} case studies and our security overview.',
    },
  ],
  leadReply: [
    {
      subject: 'Re: Following up on your demo request',
      body: "Thursday works. Please include our data engineer. We'd like to see the governance features.",
    },
    {
      subject: 'Re: Quick question about {company}',
      body: "We're stuck with spreadsheets and a legacy BI tool. Budget is approved for this year, let's talk.",
    },
    {
      subject: 'Re: Resources you asked for',
      body: 'Thanks. Not a priority right now; can you check back next quarter?',
    },
  ],
  call: [
    {
      subject: 'Discovery call',
      body: 'Discussed the current stack ({competitor}), three data sources and a decision by {month}.',
    },
    {
      subject: 'Left voicemail',
      body: 'No answer; left a voicemail and will follow up by email.',
    },
    {
      subject: 'Pricing call with procurement',
      body: 'Walked through list pricing for {seats} seats; procurement will come back with questions.',
    },
  ],
  meeting: [
    {
      subject: 'Quarterly business review',
      body: 'Reviewed adoption: {seats} weekly active users. Customer asked about the roadmap for governance.',
    },
    {
      subject: 'Technical deep dive',
      body: 'Data engineers walked through their pipelines; two connectors need custom configuration.',
    },
    {
      subject: 'Executive sponsor meeting',
      body: 'Met the sponsor; main concern is total cost over three years.',
    },
  ],
  note: [
    {
      subject: 'Account plan updated',
      body: 'Expansion potential in the {team} team. Renewal risk: low.',
    },
    {
      subject: 'Champion changed roles',
      body: 'Our champion moved to another department; need to build a new relationship.',
    },
    {
      subject: 'Usage dropped',
      body: 'Weekly active users dropped by 30% last month. Check in with the admin.',
    },
  ],
  caseFollowUp: [
    'Any update on this? We still see the problem this morning.',
    'Thanks for the quick reply, that fixed it. You can close the ticket.',
    'We tried the workaround, it did not help. Can someone call me?',
    'Attaching a screenshot of the error as requested.',
  ],
  caseReply: [
    'Thanks for reporting this. We have reproduced the issue and our engineers are working on a fix.',
    'Could you send us the job id and the time the error occurred?',
    'This should be resolved now. Please let us know if you still see the problem.',
  ],
};
