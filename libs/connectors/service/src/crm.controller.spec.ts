import type { INestApplication } from '@nestjs/common';
import { DecisionTokenVerifier } from '@mandate/decision-token';
import { EmbeddedCrm } from '@mandate/connectors-domain';
import {
  ApiTokenAuthenticator,
  createLogger,
  createNestApp,
  EmbeddedRuntime,
  firstOf,
  generateApiToken,
  LocalOidcIssuer,
} from '@mandate/platform';
import { tenantId } from '@mandate/storage';
import { ConnectorsServiceModule } from './connectors-service.module';

/**
 * The embedded CRM's HTTP routes over the real module wiring: a bearer token is required (401),
 * and the principal must be bound to the path's tenant (403 otherwise, writing nothing).
 */
describe('embedded CRM HTTP routes: authentication and tenant isolation', () => {
  const ACME = tenantId('acme');
  const GLOBEX = tenantId('globex');
  const acmeUser = generateApiToken();
  const globexUser = generateApiToken();
  const platformAdmin = generateApiToken();
  const oidc = new LocalOidcIssuer();
  let runtime: EmbeddedRuntime;
  let app: INestApplication;
  let crm: EmbeddedCrm;
  let base: string;

  beforeAll(async () => {
    const logger = createLogger('crm-auth-test', 'silent');
    runtime = new EmbeddedRuntime(logger);
    const module = await ConnectorsServiceModule.create({
      context: runtime.context('crm-connectors'),
      stores: runtime.stores,
      verifier: new DecisionTokenVerifier(new Map()),
      authenticator: firstOf(
        new ApiTokenAuthenticator([
          { id: 'acme-user', roles: ['crm-user'], tenantId: ACME, sha256: acmeUser.sha256 },
          { id: 'globex-user', roles: ['crm-user'], tenantId: GLOBEX, sha256: globexUser.sha256 },
          { id: 'admin', roles: ['connector-admin'], sha256: platformAdmin.sha256 },
        ]),
        oidc.authenticator(),
      ),
      pollIntervalMs: 0,
      relayIntervalMs: 50,
    });
    await runtime.bus.start();
    app = await createNestApp(
      [module],
      { metrics: runtime.contexts.map((c) => c.metrics), readiness: [] },
      logger,
    );
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    crm = app.get(EmbeddedCrm);
    await crm.create(ACME, 'lead', 'lead-1', { name: 'Ada', email: 'ada@acme.example' });
    await crm.create(GLOBEX, 'lead', 'lead-1', { name: 'Grace', email: 'grace@globex.example' });
  });

  afterAll(async () => {
    await app?.close();
    await runtime?.bus.stop();
  });

  const call = (method: 'GET' | 'POST' | 'PATCH', path: string, token?: string, body?: unknown) =>
    fetch(`${base}/v1/tenants/${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const requests = (token?: string) => ({
    get: () => call('GET', 'acme/crm/lead/lead-1', token),
    create: () => call('POST', 'acme/crm/lead', token, { id: 'lead-2', fields: { name: 'Bo' } }),
    update: () => call('PATCH', 'acme/crm/lead/lead-1', token, { fields: { status: 'Lost' } }),
  });

  it('answers 401 with a Bearer challenge without a token, or with an unknown one, and writes nothing', async () => {
    for (const token of [undefined, 'mdt_not-a-known-token']) {
      for (const [name, send] of Object.entries(requests(token))) {
        const res = await send();
        expect([name, res.status]).toEqual([name, 401]);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="mandate"/);
        const text = await res.text();
        expect(text).not.toContain('Ada');
      }
    }
    expect(await crm.get(ACME, 'lead-2')).toBeNull();
    expect((await crm.get(ACME, 'lead-1'))?.fields['status']).toBeUndefined();
  });

  it("answers 403 to another tenant's principal and to a principal bound to no tenant, and writes nothing", async () => {
    for (const token of [globexUser.token, platformAdmin.token]) {
      for (const [name, send] of Object.entries(requests(token))) {
        const res = await send();
        expect([name, res.status]).toEqual([name, 403]);
        expect(await res.text()).not.toContain('Ada');
      }
    }
    // A person's OIDC token of another tenant is refused the same way.
    const globexReviewer = oidc.issue({ sub: 'rev-g', roles: ['reviewer'], tenant: GLOBEX });
    expect((await requests(globexReviewer).get()).status).toBe(403);
    expect(await crm.get(ACME, 'lead-2')).toBeNull();
    expect((await crm.get(ACME, 'lead-1'))?.fields['status']).toBeUndefined();
    expect(await crm.get(GLOBEX, 'lead-2')).toBeNull();
  });

  it("serves the principal's own tenant: create 201, update 200, read 200", async () => {
    const acme = requests(acmeUser.token);
    const created = await acme.create();
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ id: 'lead-2', objectType: 'lead', created: true });
    const updated = await acme.update();
    expect(updated.status).toBe(200);
    const read = await acme.get();
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({
      id: 'lead-1',
      fields: { name: 'Ada', status: 'Lost' },
    });
    expect((await crm.get(ACME, 'lead-2'))?.fields['name']).toBe('Bo');
    // The globex user reads globex's record of the same id, never acme's.
    const globex = await call('GET', 'globex/crm/lead/lead-1', globexUser.token);
    expect(globex.status).toBe(200);
    expect(((await globex.json()) as { fields: { name: string } }).fields.name).toBe('Grace');
    // A person's OIDC token bound to acme works too (the authenticator is firstOf(tokens, OIDC)).
    const reviewer = oidc.issue({ sub: 'rev-a', roles: ['reviewer'], tenant: ACME });
    expect((await requests(reviewer).get()).status).toBe(200);
  });

  it('still validates input after authorisation: a malformed tenant or body is 400', async () => {
    const badTenant = await call('GET', 'Not%20A%20Tenant/crm/lead/lead-1', acmeUser.token);
    expect(badTenant.status).toBe(400);
    const badBody = await call('POST', 'acme/crm/lead', acmeUser.token, { fields: {} });
    expect(badBody.status).toBe(400);
    expect(((await badBody.json()) as { message: string }).message).toMatch(/body must be/);
  });
});
