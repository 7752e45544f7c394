import type { INestApplication } from '@nestjs/common';
import { DecisionTokenVerifier } from '@mandate/decision-token';
import { EmbeddedCrm } from '@mandate/connectors-domain';
import {
  ApiTokenAuthenticator,
  createLogger,
  createNestApp,
  EmbeddedRuntime,
  generateApiToken,
  LocalOidcIssuer,
} from '@mandate/platform';
import { tenantId } from '@mandate/storage';
import { ConnectorsServiceModule } from './connectors-service.module';
import { CRM_OIDC_ROLES } from './crm.controller';

/**
 * The embedded CRM's HTTP routes over the real module wiring: a bearer token is required (401),
 * and the principal must be bound to the path's tenant with role `crm-user` or `admin` (403
 * otherwise, writing nothing). The executions API next to them takes operator tokens only.
 */
describe('embedded CRM HTTP routes: authentication, roles and tenant isolation', () => {
  const ACME = tenantId('acme');
  const GLOBEX = tenantId('globex');
  const acmeUser = generateApiToken();
  const globexUser = generateApiToken();
  const platformAdmin = generateApiToken();
  /** An operator token of acme's supervisor: compensation, but no CRM role. */
  const acmeSupervisor = generateApiToken();
  /** A supervisor token bound to no tenant: a supervisor of nowhere, not of everywhere. */
  const unboundSupervisor = generateApiToken();
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
      authenticator: new ApiTokenAuthenticator([
        { id: 'acme-user', roles: ['crm-user'], tenantId: ACME, sha256: acmeUser.sha256 },
        { id: 'globex-user', roles: ['crm-user'], tenantId: GLOBEX, sha256: globexUser.sha256 },
        { id: 'admin', roles: ['connector-admin'], sha256: platformAdmin.sha256 },
        { id: 'sup-acme', roles: ['supervisor'], tenantId: ACME, sha256: acmeSupervisor.sha256 },
        { id: 'sup-none', roles: ['supervisor'], sha256: unboundSupervisor.sha256 },
      ]),
      // People as the crm-connectors app accepts them (crm-user kept, tenant-bound).
      people: oidc.authenticator(CRM_OIDC_ROLES),
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
    // A CRM user's token must name its tenant (crm-user is tenant-bound); an admin's without one
    // is an admin of no tenant here.
    expect((await requests(oidc.issue({ sub: 'crm-x', roles: ['crm-user'] })).get()).status).toBe(
      403,
    );
    expect((await requests(oidc.issue({ sub: 'adm-x', roles: ['admin'] })).get()).status).toBe(403);
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
    // A person's OIDC token of acme's admin works too (operator tokens, then people's tokens).
    const admin = oidc.issue({ sub: 'adm-a', roles: ['admin'], tenant: ACME });
    expect((await requests(admin).get()).status).toBe(200);
    const person = oidc.issue({ sub: 'crm-a', roles: ['crm-user'], tenant: ACME });
    expect((await requests(person).get()).status).toBe(200);
  });

  it("answers 403 to the tenant's reviewers, supervisors and auditors (no CRM role): no raw record, no write", async () => {
    const before = await crm.get(ACME, 'lead-1');
    const people = ['reviewer', 'supervisor', 'auditor'].map((role) =>
      oidc.issue({ sub: `${role}-a`, roles: [role], tenant: ACME }),
    );
    for (const token of [...people, acmeSupervisor.token]) {
      for (const [name, send] of Object.entries(requests(token))) {
        const res = await send();
        expect([name, res.status]).toEqual([name, 403]);
        const text = await res.text();
        expect(text).not.toContain('Ada');
        expect(text).not.toContain('ada@acme.example');
        expect(text).toMatch(/needs the role crm-user or admin/);
      }
    }
    expect((await crm.get(ACME, 'lead-1'))?.version).toBe(before?.version);
  });

  it('keeps people out of the executions API: an OIDC supervisor or admin is 401, an operator token is not', async () => {
    const route = 'acme/executions/no-such-key';
    const supervisor = oidc.issue({ sub: 'sup-a', roles: ['supervisor'], tenant: ACME });
    const admin = oidc.issue({ sub: 'adm-a', roles: ['admin'], tenant: ACME });
    for (const token of [supervisor, admin]) {
      expect((await call('GET', route, token)).status).toBe(401);
      expect((await call('POST', `${route}/compensate`, token, { reason: 'undo it' })).status).toBe(
        401,
      );
    }
    // The operator token of acme's supervisor gets past authentication and authorisation.
    expect((await call('GET', route, acmeSupervisor.token)).status).toBe(404);
    const compensate = await call('POST', `${route}/compensate`, acmeSupervisor.token, {
      reason: 'undo it',
    });
    expect(compensate.status).toBe(404);
    // Neither is a supervisor token bound to no tenant, nor acme's supervisor in globex; a
    // connector admin (an operator) reaches any tenant.
    for (const [token, path] of [
      [unboundSupervisor.token, route],
      [acmeSupervisor.token, 'globex/executions/no-such-key'],
    ] as const) {
      expect((await call('GET', path, token)).status).toBe(403);
      expect((await call('POST', `${path}/compensate`, token, { reason: 'x' })).status).toBe(403);
    }
    expect((await call('GET', 'globex/executions/no-such-key', platformAdmin.token)).status).toBe(
      404,
    );
    // A CRM user is no operator of executions.
    expect(
      (await call('POST', `${route}/compensate`, acmeUser.token, { reason: 'x' })).status,
    ).toBe(403);
  });

  it('still validates input after authorisation: a malformed tenant or body is 400', async () => {
    const badTenant = await call('GET', 'Not%20A%20Tenant/crm/lead/lead-1', acmeUser.token);
    expect(badTenant.status).toBe(400);
    const badBody = await call('POST', 'acme/crm/lead', acmeUser.token, { fields: {} });
    expect(badBody.status).toBe(400);
    expect(((await badBody.json()) as { message: string }).message).toMatch(/body must be/);
  });
});
