import { ConnectorError } from './errors';
import {
  FieldMapping,
  fieldMappingProblems,
  mergeFieldMappings,
  parseFieldMapping,
} from './field-mapping';

const config = {
  lead: { crmObject: 'Lead', fields: { name: 'LastName', score: 'Lead_Score__c' } },
  opportunity: { crmObject: 'Opportunity', fields: { stage: 'StageName' } },
};

describe('FieldMapping', () => {
  const m = new FieldMapping(config);

  it('maps canonical names to the CRM and back, dropping unmapped CRM fields', () => {
    expect(m.crmObject('lead')).toBe('Lead');
    expect(m.toCrm('lead', { score: 80 })).toEqual({ Lead_Score__c: 80 });
    expect(m.fromCrm('lead', { LastName: 'Lee', Id: '00Q1', attributes: {} })).toEqual({
      name: 'Lee',
    });
    expect(m.objectTypeOf('Opportunity')).toBe('opportunity');
  });

  it('fails loudly on unmapped objects and fields, as permanent errors', () => {
    for (const fn of [() => m.crmObject('case'), () => m.crmField('lead', 'email')]) {
      try {
        fn();
        throw new Error('expected an error');
      } catch (err) {
        expect(err).toBeInstanceOf(ConnectorError);
        expect((err as ConnectorError).kind).toBe('permanent');
      }
    }
  });

  it('refuses invalid mappings with every problem named', () => {
    expect(fieldMappingProblems({ lead: { crmObject: '', fields: { a: 'X', b: 'X' } } })).toEqual([
      '"lead.crmObject" must be a non-empty string',
      '"lead": CRM field "X" is mapped from two canonical fields',
    ]);
    expect(() => parseFieldMapping('{')).toThrow(/not valid JSON/);
    expect(() => parseFieldMapping('[]')).toThrow(/must be an object/);
  });

  it('overlays a tenant mapping on the default, per field', () => {
    const merged = mergeFieldMappings(config, {
      lead: { crmObject: 'Lead', fields: { score: 'Score__c' } },
    });
    expect(merged.lead.fields).toEqual({ name: 'LastName', score: 'Score__c' });
    expect(merged.opportunity).toEqual(config.opportunity);
  });
});
