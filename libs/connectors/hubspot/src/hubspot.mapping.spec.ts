import { capabilityProblems } from '@mandate/connector-sdk';
import {
  DEFAULT_HUBSPOT_MAPPING,
  HubSpotSchema,
  currencyDigits,
  hubspotCapabilities,
  majorToMinor,
  minorToMajor,
  sameCanonical,
} from './hubspot.mapping';

describe('HubSpot mapping', () => {
  const schema = new HubSpotSchema(DEFAULT_HUBSPOT_MAPPING);

  it('declares well-formed capabilities for every mapped object', () => {
    const caps = hubspotCapabilities(schema);
    expect(capabilityProblems(caps)).toEqual([]);
    expect(caps.objects.map((o) => o.objectType)).toEqual([
      'lead',
      'contact',
      'account',
      'opportunity',
      'case',
    ]);
    expect(caps.reversibleActions.every((a) => caps.actions.includes(a))).toBe(true);
  });

  it('maps objects to the API names (contact through its type id alias)', () => {
    expect(
      ['lead', 'contact', 'account', 'opportunity', 'case'].map((t) => schema.apiObject(t)),
    ).toEqual(['contacts', 'contacts', 'companies', 'deals', 'tickets']);
  });

  it('converts amounts exactly between minor and major units', () => {
    expect(currencyDigits('EUR')).toBe(2);
    expect(currencyDigits('JPY')).toBe(0);
    expect(currencyDigits('KWD')).toBe(3);
    expect(currencyDigits(undefined)).toBe(2);
    expect(minorToMajor(123_456, 2)).toBe('1234.56');
    expect(minorToMajor(-5, 2)).toBe('-0.05');
    expect(minorToMajor(42, 0)).toBe('42');
    expect(majorToMinor('1234.56', 2)).toBe(123_456);
    expect(majorToMinor('1234.5', 2)).toBe(123_450);
    expect(majorToMinor('0.125', 2)).toBe(13);
    expect(majorToMinor('-0.05', 2)).toBe(-5);
    expect(majorToMinor('12', 0)).toBe(12);
    expect(majorToMinor('twelve', 2)).toBeUndefined();
  });

  it('converts properties both ways, splitting and joining names', () => {
    expect(
      schema.toHubSpot('lead', { name: 'Ada King Lovelace', score: 7, emailConsent: false }),
    ).toEqual({
      firstname: 'Ada',
      lastname: 'King Lovelace',
      mandate_lead_score: '7',
      mandate_email_consent: 'false',
    });
    expect(
      schema.fromHubSpot('lead', {
        firstname: 'Ada',
        lastname: null,
        mandate_lead_score: '7',
        industry: '',
      }),
    ).toEqual({ name: 'Ada', score: 7 });
    expect(schema.toHubSpot('opportunity', { amountMinor: 100, currencyCode: 'JPY' })).toEqual({
      amount: '100',
      deal_currency_code: 'JPY',
    });
  });

  it('compares rendered values like the actions render them', () => {
    expect(sameCanonical('number', 80, '80.0')).toBe(true);
    expect(sameCanonical('number', undefined, '')).toBe(true);
    expect(sameCanonical('string', 'a', 'b')).toBe(false);
    expect(sameCanonical('boolean', true, 'true')).toBe(true);
  });
});
