import { DataClassification, GetCapabilitiesResponse } from '@mandate/contracts';
// Test fixtures only (the brief's demo CRM); production code gets capabilities and records passed in.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { DEMO_DATASET, EMBEDDED_CAPABILITIES } from '@mandate/connectors-domain';
import {
  classifiedSchemaFromCapabilities,
  dataPolicyProblems,
  knownPersonalValues,
  promptFields,
  selectFields,
  type AgentDataPolicy,
  type ClassifiedSchema,
} from './field-access';
import { PseudonymVault, canary, containsCanary } from './pseudonymiser';

const byId = (id: string) => {
  const record = DEMO_DATASET.find((r) => r.id === id);
  if (!record) throw new Error(`demo record ${id} missing`);
  return record;
};

const leadQualification: AgentDataPolicy = {
  agentId: 'lead-qualifier',
  purpose: 'lead-qualification',
  readable: { lead: ['company', 'title', 'employees', 'industry', 'country', 'source', 'email'] },
};

const supportTriage: AgentDataPolicy = {
  agentId: 'support-triage',
  purpose: 'case-triage',
  readable: {
    case: ['subject', 'description', 'status', 'priority', 'customerTier'],
    contact: ['name', 'title'],
  },
};

describe('selectFields', () => {
  const lead = byId('lead-0005');

  it('returns only the fields the purpose allows and lists the rest as withheld', () => {
    const selection = selectFields(leadQualification, EMBEDDED_CAPABILITIES, 'lead', lead.fields);
    expect(selection.fields.map((f) => f.name).sort()).toEqual(
      ['company', 'country', 'email', 'employees', 'industry', 'source', 'title'].sort(),
    );
    expect(selection.withheld).toEqual(
      ['createdAt', 'emailConsent', 'name', 'notes', 'optedOut', 'status'].sort(),
    );
    expect(selection.withheldReasons['name']).toBe('NOT_ALLOWED_FOR_PURPOSE');
    expect(selection.agentId).toBe('lead-qualifier');
    expect(selection.purpose).toBe('lead-qualification');
    // No withheld value anywhere in the result.
    const json = JSON.stringify(selection);
    expect(json).not.toContain(String(lead.fields['name']));
    expect(json).not.toContain('NOTE TO THE AI AGENT');
  });

  it('marks allowed personal fields for pseudonymisation, and only those', () => {
    const selection = selectFields(leadQualification, EMBEDDED_CAPABILITIES, 'lead', lead.fields);
    const marked = selection.fields.filter((f) => f.pseudonymise).map((f) => f.name);
    expect(marked).toEqual(['email']);
    expect(selection.fields.find((f) => f.name === 'email')?.classification).toBe('personal');
    expect(selection.fields.find((f) => f.name === 'company')?.pseudonymise).toBe(false);
  });

  it('the same record gives different fields for different purposes', () => {
    const contact = byId('con-0001');
    const triage = selectFields(supportTriage, EMBEDDED_CAPABILITIES, 'contact', contact.fields);
    expect(triage.fields.map((f) => f.name)).toEqual(['name', 'title']);
    const qualification = selectFields(
      leadQualification,
      EMBEDDED_CAPABILITIES,
      'contact',
      contact.fields,
    );
    expect(qualification.fields).toEqual([]);
    expect(qualification.withheld).toEqual(Object.keys(contact.fields).sort());
  });

  it('never returns an unclassified field, even when the policy lists it', () => {
    const schema: ClassifiedSchema = {
      objects: [
        {
          objectType: 'lead',
          fields: [
            { name: 'company', classification: 'internal' },
            { name: 'nationalId', classification: 'secret-ish' },
          ],
        },
      ],
    };
    const policy: AgentDataPolicy = {
      agentId: 'a',
      purpose: 'p',
      readable: { lead: ['company', 'nationalId', 'healthNotes'] },
    };
    const selection = selectFields(policy, schema, 'lead', {
      company: 'Acme',
      nationalId: '123-45-6789',
      healthNotes: 'diabetic',
    });
    expect(selection.fields.map((f) => f.name)).toEqual(['company']);
    expect(selection.withheldReasons).toEqual({
      nationalId: 'UNCLASSIFIED',
      healthNotes: 'UNCLASSIFIED',
    });
    expect(dataPolicyProblems(policy, schema)).toEqual([
      'field "lead.nationalId" is not declared with a valid classification',
      'field "lead.healthNotes" is not declared with a valid classification',
    ]);
  });

  it('returns allowed sensitive fields marked for pseudonymisation', () => {
    const schema: ClassifiedSchema = {
      objects: [
        { objectType: 'lead', fields: [{ name: 'diagnosis', classification: 'sensitive' }] },
      ],
    };
    const policy: AgentDataPolicy = {
      agentId: 'a',
      purpose: 'p',
      readable: { lead: ['diagnosis'] },
    };
    const selection = selectFields(policy, schema, 'lead', { diagnosis: 'asthma' });
    expect(selection.fields).toEqual([
      { name: 'diagnosis', value: 'asthma', classification: 'sensitive', pseudonymise: true },
    ]);
  });

  it('an object type the policy does not cover is entirely withheld', () => {
    const opp = byId('opp-0001');
    const selection = selectFields(supportTriage, EMBEDDED_CAPABILITIES, 'opportunity', opp.fields);
    expect(selection.fields).toEqual([]);
    expect(new Set(Object.values(selection.withheldReasons))).toEqual(
      new Set(['NOT_ALLOWED_FOR_PURPOSE']),
    );
  });

  it('the demo policies are sound for the embedded connector', () => {
    expect(dataPolicyProblems(leadQualification, EMBEDDED_CAPABILITIES)).toEqual([]);
    expect(dataPolicyProblems(supportTriage, EMBEDDED_CAPABILITIES)).toEqual([]);
    expect(
      dataPolicyProblems(
        { agentId: 'a', purpose: 'p', readable: { invoice: ['total'] } },
        EMBEDDED_CAPABILITIES,
      ),
    ).toEqual(['object "invoice" is not declared by the connector']);
  });
});

describe('classifiedSchemaFromCapabilities', () => {
  it('maps the proto classifications and fails closed on UNSPECIFIED', () => {
    const response = GetCapabilitiesResponse.fromPartial({
      connector: 'x',
      objects: [
        {
          objectType: 'lead',
          fields: [
            { name: 'email', classification: DataClassification.DATA_CLASSIFICATION_PERSONAL },
            { name: 'mystery', classification: DataClassification.DATA_CLASSIFICATION_UNSPECIFIED },
          ],
        },
      ],
    });
    const schema = classifiedSchemaFromCapabilities(response);
    const policy: AgentDataPolicy = {
      agentId: 'a',
      purpose: 'p',
      readable: { lead: ['email', 'mystery'] },
    };
    const selection = selectFields(policy, schema, 'lead', { email: 'a@b.example', mystery: 'x' });
    expect(selection.fields.map((f) => [f.name, f.classification, f.pseudonymise])).toEqual([
      ['email', 'personal', true],
    ]);
    expect(selection.withheldReasons).toEqual({ mystery: 'UNCLASSIFIED' });
  });
});

describe('promptFields', () => {
  it('tokenises personal values and scrubs free text with the record’s known values', () => {
    const name = canary('name');
    const email = canary('email');
    const phone = canary('phone');
    const record = {
      name,
      email,
      phone,
      title: 'Head of Data',
      accountId: 'acc-0003',
    };
    const caseRecord = {
      subject: `Call back ${name.split(' ')[0]} on ${phone}`,
      description: `Please reply to ${email}, or ask ${name} directly.`,
      status: 'Open',
      priority: 'high',
      customerTier: 'enterprise',
    };
    const vault = new PseudonymVault('tenant-a', 'run-1');
    const known = knownPersonalValues(EMBEDDED_CAPABILITIES, 'contact', record);
    const contactView = promptFields(
      selectFields(supportTriage, EMBEDDED_CAPABILITIES, 'contact', record),
      vault,
      known,
    );
    const caseView = promptFields(
      selectFields(supportTriage, EMBEDDED_CAPABILITIES, 'case', caseRecord),
      vault,
      known,
    );
    expect(contactView).toEqual({ name: '⟦PERSON_1⟧', title: 'Head of Data' });
    expect(caseView['description']).toBe('Please reply to ⟦EMAIL_1⟧, or ask ⟦PERSON_1⟧ directly.');
    expect(caseView['status']).toBe('Open');
    const everything = JSON.stringify([contactView, caseView]);
    expect(containsCanary(everything, [name, email, phone])).toBe(false);
  });
});
