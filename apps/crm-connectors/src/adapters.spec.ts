import { tenantId } from '@mandate/storage';
import { ADAPTER_FACTORIES } from './adapters';

describe('crm-connectors adapter factories', () => {
  const tenant = tenantId('globex');

  it('builds a Salesforce adapter from a tenant entry, and refuses bad settings by key only', () => {
    const adapter = ADAPTER_FACTORIES['salesforce'](tenant, {
      loginUrl: 'https://login.salesforce.com',
      instanceUrl: 'https://globex.my.salesforce.com',
      clientId: 'client-id',
      clientSecret: 'very-secret-value',
      refreshToken: 'refresh-secret-value',
    });
    expect(adapter.capabilities.connector).toBe('salesforce');
    let message = '';
    try {
      ADAPTER_FACTORIES['salesforce'](tenant, {
        instanceUrl: 'not a url',
        clientSecret: 'very-secret-value',
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/instanceUrl|clientId|refreshToken/);
    expect(message).not.toContain('very-secret-value');
  });

  it('builds a HubSpot adapter from a tenant entry, and refuses bad settings by key only', () => {
    const adapter = ADAPTER_FACTORIES['hubspot'](tenant, {
      portalId: '123456',
      accessToken: 'pat-secret-value',
      webhookClientSecret: 'webhook-secret-value',
    });
    expect(adapter.capabilities.connector).toBe('hubspot');
    let message = '';
    try {
      ADAPTER_FACTORIES['hubspot'](tenant, { portalId: 'abc', accessToken: 'pat-secret-value' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('portalId');
    expect(message).not.toContain('pat-secret-value');
  });
});
