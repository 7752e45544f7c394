import {
  DEFAULT_HUBSPOT_BASE_PATH,
  HubSpotConfigError,
  parseHubSpotConfig,
} from './hubspot.config';
import { HubSpotAdapter } from './hubspot.adapter';

const privateApp = {
  tenantId: 'acme',
  portalId: '4407001',
  accessToken: 'pat-na1-SECRET-TOKEN',
  webhookClientSecret: 'SECRET-CLIENT-SECRET',
};

function problems(raw: unknown): string {
  try {
    parseHubSpotConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(HubSpotConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the config to be refused');
}

describe('parseHubSpotConfig', () => {
  it('accepts a private-app config and fills in the default base path', () => {
    const c = parseHubSpotConfig(privateApp);
    expect(c.basePath).toBe(DEFAULT_HUBSPOT_BASE_PATH);
    expect(c.oauth).toBeUndefined();
  });

  it('accepts an OAuth config without an access token and trims the base path', () => {
    const c = parseHubSpotConfig({
      tenantId: 'acme',
      portalId: '1',
      basePath: 'http://127.0.0.1:8080/',
      oauth: { clientId: 'id', clientSecret: 's', refreshToken: 'r' },
      webhookClientSecret: 's',
    });
    expect(c.basePath).toBe('http://127.0.0.1:8080');
    expect(c.oauth).toEqual({ clientId: 'id', clientSecret: 's', refreshToken: 'r' });
  });

  it('names every bad key, and never a secret value', () => {
    const message = problems({
      tenantId: '',
      portalId: 'acme-portal',
      basePath: 'ftp://x',
      accessToken: '',
      oauth: { clientId: 'id', clientSecret: 'SECRET-CLIENT-SECRET' },
      webhookClientSecret: 42,
      contactChangeObjectType: 'person',
      colour: 'blue',
    });
    for (const key of [
      '"tenantId"',
      '"portalId"',
      '"basePath"',
      '"accessToken"',
      '"oauth.refreshToken"',
      '"webhookClientSecret"',
      '"contactChangeObjectType"',
      '"colour" is not a known key',
    ])
      expect(message).toContain(key);
    expect(message).not.toContain('SECRET');
    expect(message).not.toContain('acme-portal');
  });

  it('requires credentials of one kind', () => {
    const { accessToken: _t, ...none } = privateApp;
    expect(problems(none)).toContain(
      'either "accessToken" (private app) or "oauth" (OAuth app) is required',
    );
  });

  it('merges a field-mapping overlay and reports a broken one', () => {
    const c = parseHubSpotConfig({
      ...privateApp,
      fieldMapping: { lead: { crmObject: 'contacts', fields: { employees: 'numemployees' } } },
    });
    const adapter = new HubSpotAdapter(c);
    const lead = adapter.capabilities.objects.find((o) => o.objectType === 'lead')!;
    // Added by the overlay, without a spec: exposed read-only and confidential.
    expect(lead.fields).toContainEqual({
      name: 'employees',
      classification: 'confidential',
      writable: false,
    });
    expect(lead.fields.map((f) => f.name)).toContain('industry');
    expect(
      problems({
        ...privateApp,
        fieldMapping: { lead: { crmObject: 'contacts', fields: { company: 'industry' } } },
      }),
    ).toContain('CRM field "industry" is mapped from two canonical fields');
    expect(problems({ ...privateApp, fieldMapping: { invoice: { fields: {} } } })).toContain(
      '"fieldMapping.invoice.crmObject" is required',
    );
  });

  it('refuses what is not an object', () => {
    expect(problems('hubspot')).toBe('hubspot config must be an object');
  });
});
