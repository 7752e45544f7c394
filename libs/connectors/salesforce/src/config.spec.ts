import { SalesforceAdapter } from './salesforce.adapter';
import { parseSalesforceConfig, SalesforceConfigError, type SalesforceConfig } from './config';

const SECRET = 'top-secret-client-secret-value';
const REFRESH = '5Aep861-refresh-token-value';

const env = (overrides: Record<string, string | undefined> = {}) => ({
  SALESFORCE_TENANT_ID: 'tenant-1',
  SALESFORCE_INSTANCE_URL: 'https://acme.my.salesforce.com/',
  SALESFORCE_CLIENT_ID: '3MVG9client',
  SALESFORCE_CLIENT_SECRET: SECRET,
  SALESFORCE_REFRESH_TOKEN: REFRESH,
  ...overrides,
});

function problems(input: Record<string, string | undefined>): string {
  try {
    parseSalesforceConfig(input);
  } catch (err) {
    expect(err).toBeInstanceOf(SalesforceConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('parseSalesforceConfig', () => {
  it('reads SALESFORCE_* settings with defaults for the optional ones', () => {
    expect(parseSalesforceConfig(env())).toEqual({
      tenantId: 'tenant-1',
      loginUrl: 'https://login.salesforce.com',
      instanceUrl: 'https://acme.my.salesforce.com',
      clientId: '3MVG9client',
      clientSecret: SECRET,
      refreshToken: REFRESH,
    });
    const full = parseSalesforceConfig(
      env({
        SALESFORCE_LOGIN_URL: 'https://test.salesforce.com',
        SALESFORCE_API_VERSION: '61.0',
        SALESFORCE_POLL_LAG_SECONDS: '0',
        SALESFORCE_RATE_LIMIT_RETRY_AFTER_MS: '120000',
        SALESFORCE_MINOR_UNIT_DIGITS: '0',
        SALESFORCE_LEAD_QUALIFIED_STATUS: 'Working - Contacted',
        SALESFORCE_FIELD_MAPPING: '{"lead":{"crmObject":"Lead","fields":{"score":"Score__c"}}}',
      }),
    );
    expect(full).toMatchObject({
      loginUrl: 'https://test.salesforce.com',
      apiVersion: '61.0',
      pollLagSeconds: 0,
      rateLimitRetryAfterMs: 120000,
      minorUnitDigits: 0,
      leadQualifiedStatus: 'Working - Contacted',
      fieldMapping: { lead: { crmObject: 'Lead', fields: { score: 'Score__c' } } },
    });
  });

  it('names every missing or bad key, and never echoes a value', () => {
    const message = problems({
      SALESFORCE_INSTANCE_URL: 'http://acme.my.salesforce.com',
      SALESFORCE_LOGIN_URL: `https://user:${SECRET}@login.salesforce.com`,
      SALESFORCE_CLIENT_SECRET: SECRET,
      SALESFORCE_REFRESH_TOKEN: REFRESH,
      SALESFORCE_API_VERSION: 'v62',
      SALESFORCE_POLL_LAG_SECONDS: 'soon',
      SALESFORCE_FIELD_MAPPING: `{"lead": ${SECRET}`,
    });
    for (const key of [
      'SALESFORCE_TENANT_ID is required',
      'SALESFORCE_CLIENT_ID is required',
      'SALESFORCE_INSTANCE_URL must be an https URL',
      'SALESFORCE_LOGIN_URL must not carry credentials',
      'SALESFORCE_API_VERSION must look like "62.0"',
      'SALESFORCE_POLL_LAG_SECONDS must be an integer',
      'SALESFORCE_FIELD_MAPPING is not valid JSON',
    ])
      expect(message).toContain(key);
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain(REFRESH);
  });

  it('refuses Lightning URLs and mapping names that are not API names', () => {
    expect(
      problems(env({ SALESFORCE_INSTANCE_URL: 'https://acme.lightning.force.com' })),
    ).toContain('SALESFORCE_INSTANCE_URL must be the My Domain');
    expect(
      problems(
        env({
          SALESFORCE_FIELD_MAPPING:
            '{"lead":{"crmObject":"Lead","fields":{"score":"Score__c, Id FROM User"}}}',
        }),
      ),
    ).toContain('"lead.fields.score" must be a Salesforce field API name');
    expect(problems(env({ SALESFORCE_FIELD_MAPPING: '{"lead":{"fields":{}}}' }))).toContain(
      '"lead.crmObject" must be a non-empty string',
    );
  });

  it('allows plain http only to this machine (a local test double)', () => {
    expect(
      parseSalesforceConfig(env({ SALESFORCE_INSTANCE_URL: 'http://127.0.0.1:8080' })).instanceUrl,
    ).toBe('http://127.0.0.1:8080');
  });
});

describe('SalesforceAdapter configuration', () => {
  const config: SalesforceConfig = {
    tenantId: 't',
    loginUrl: 'https://login.salesforce.com',
    instanceUrl: 'https://acme.my.salesforce.com',
    clientId: 'id',
    clientSecret: SECRET,
    refreshToken: REFRESH,
  };

  it('refuses an unusable config and a mapping that maps two fields to one', () => {
    expect(() => new SalesforceAdapter({ ...config, instanceUrl: 'ftp://x' })).toThrow(
      SalesforceConfigError,
    );
    expect(
      () =>
        new SalesforceAdapter({
          ...config,
          fieldMapping: { lead: { crmObject: 'Lead', fields: { score: 'Company' } } },
        }),
    ).toThrow(/CRM field "Company" is mapped from two canonical fields/);
  });

  it('overlays a tenant mapping on the default and declares what it maps', () => {
    const adapter = new SalesforceAdapter({
      ...config,
      fieldMapping: {
        lead: { crmObject: 'Lead', fields: { score: 'MyScore__c', rating: 'Rating' } },
        opportunity: { crmObject: 'Opportunity', fields: { currencyCode: 'CurrencyIsoCode' } },
      },
    });
    expect(adapter.mapping.crmField('lead', 'score')).toBe('MyScore__c');
    expect(adapter.mapping.crmField('lead', 'company')).toBe('Company');
    const lead = adapter.capabilities.objects.find((o) => o.objectType === 'lead')!;
    expect(lead.fields.find((f) => f.name === 'rating')).toEqual({
      name: 'rating',
      classification: 'confidential',
      writable: false,
    });
    expect(lead.fields.find((f) => f.name === 'email')).toEqual({
      name: 'email',
      classification: 'personal',
      writable: false,
    });
    const opp = adapter.capabilities.objects.find((o) => o.objectType === 'opportunity')!;
    expect(opp.fields.map((f) => f.name)).toContain('currencyCode');
  });

  it('declares all ten actions, the field-setting ones reversible, polling and CRM-side idempotency', () => {
    const c = new SalesforceAdapter(config).capabilities;
    expect(c).toMatchObject({
      connector: 'salesforce',
      changeFeed: 'polling',
      crmSideIdempotency: true,
      rateLimit: { requestsPerSecond: 25, burst: 25 },
    });
    expect(c.actions).toHaveLength(10);
    expect(c.reversibleActions).toEqual([
      'update_field',
      'qualify_lead',
      'disqualify_lead',
      'assign_owner',
      'apply_discount',
      'move_opportunity_stage',
      'close_case',
    ]);
    expect(c.objects.map((o) => o.objectType)).toEqual([
      'lead',
      'contact',
      'account',
      'opportunity',
      'case',
    ]);
  });
});
