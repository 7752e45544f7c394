import { InMemoryDocumentStore, tenantId } from '@mandate/storage';
import { CRM_RECORDS } from './collections';
import { ConnectorRegistry, parseConnectorsConfig } from './connector-registry';
import { EmbeddedCrmAdapter } from './embedded-adapter';
import { EmbeddedCrm } from './embedded-crm';

describe('connectors configuration and registry', () => {
  const crm = new EmbeddedCrm(new InMemoryDocumentStore(CRM_RECORDS));
  const factories = {
    embedded: (t: string) => new EmbeddedCrmAdapter(crm, t),
    picky: (_t: string, settings: Readonly<Record<string, unknown>>) => {
      if (!settings['apiKey']) throw new Error('"apiKey" is required');
      return new EmbeddedCrmAdapter(crm, _t);
    },
  };

  it('parses a configuration and names every problem without echoing values', () => {
    const config = parseConnectorsConfig(
      JSON.stringify({
        default: 'embedded',
        tenants: { globex: { connector: 'picky', settings: { apiKey: 's3cr3t' } } },
      }),
      ['embedded', 'picky'],
    );
    expect(config.tenants['globex'].connector).toBe('picky');
    let message = '';
    try {
      parseConnectorsConfig(
        JSON.stringify({
          default: 'sap',
          tenants: { 'Bad Tenant': { connector: 'x', settings: 's3cr3t' } },
        }),
        ['embedded'],
      );
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('default must be "none" or one of embedded');
    expect(message).toContain('tenant id "Bad Tenant" is invalid');
    expect(message).toContain('tenants.Bad Tenant.connector must be one of embedded');
    expect(message).toContain('tenants.Bad Tenant.settings must be an object');
    expect(message).not.toContain('s3cr3t');
    expect(() => parseConnectorsConfig('{', ['embedded'])).toThrow(/not JSON/);
  });

  it('serves unlisted tenants from the default, listed ones from their connector, and none when told', () => {
    const registry = new ConnectorRegistry(
      {
        default: 'embedded',
        tenants: { globex: { connector: 'picky', settings: { apiKey: 'k' } } },
      },
      factories,
    );
    registry.validate();
    expect(registry.resolve(tenantId('acme'))?.connector).toBe('embedded');
    expect(registry.resolve(tenantId('acme'))).toBe(registry.resolve(tenantId('acme')));
    expect(registry.configuredTenants()).toEqual(['globex']);
    const none = new ConnectorRegistry({ default: 'none', tenants: {} }, factories);
    expect(none.resolve(tenantId('acme'))).toBeUndefined();
  });

  it('refuses to start with a tenant whose settings its adapter rejects', () => {
    const registry = new ConnectorRegistry(
      { default: 'embedded', tenants: { globex: { connector: 'picky', settings: {} } } },
      factories,
    );
    expect(() => registry.validate()).toThrow(
      'tenant globex: picky settings are invalid: "apiKey" is required',
    );
  });
});
