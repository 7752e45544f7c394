import { createServer } from 'node:net';
import { credentials } from '@grpc/grpc-js';
import { hubspotTestBed, type HubSpotTestBed } from '@mandate/connector-hubspot/testing';
import { HubSpotAdapter, parseHubSpotConfig } from '@mandate/connector-hubspot';
import {
  AuditKind,
  ChangeType,
  ConnectorServiceClient,
  CrmChangeEvent,
  type GetRecordResponse,
} from '@mandate/contracts';
import { Topics } from '@mandate/messaging';
import { createLogger, generateApiToken } from '@mandate/platform';
import { DEMO_TENANT, runDemo, startEmbedded, type EmbeddedMandate } from './embedded';
import { waitFor } from './testing/wait-for';

interface Operator {
  id: string;
  roles: string[];
  tenantId?: string;
  token: string;
  sha256: string;
}
const supervisor: Operator = {
  id: 'sup-acme',
  roles: ['supervisor'],
  tenantId: 'acme',
  ...generateApiToken(),
};
const otherSupervisor: Operator = {
  id: 'sup-globex',
  roles: ['supervisor'],
  tenantId: 'globex',
  ...generateApiToken(),
};
const auditor: Operator = { id: 'aud-1', roles: ['auditor'], ...generateApiToken() };
const HUBSPOT_TENANT = 'initech';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('connectors in the embedded process: compensation, webhooks, record reads', () => {
  let m: EmbeddedMandate;
  let hubspot: HubSpotTestBed;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    hubspot = await hubspotTestBed({
      tenantId: HUBSPOT_TENANT,
      webhookUrl: `http://127.0.0.1:${port}/v1/tenants/${HUBSPOT_TENANT}/connectors/webhook`,
    });
    m = await startEmbedded({
      logger: createLogger('mandate-test', 'silent'),
      httpPort: port,
      grpcPort: 0,
      apiTokens: [supervisor, otherSupervisor, auditor].map(
        ({ id, roles, tenantId, sha256 }: Operator) => ({
          id,
          roles,
          ...(tenantId ? { tenantId } : {}),
          sha256,
        }),
      ),
      connectors: {
        default: 'embedded',
        tenants: { [HUBSPOT_TENANT]: { connector: 'hubspot', settings: {} } },
      },
      connectorFactories: {
        hubspot: (tenant) =>
          new HubSpotAdapter(parseHubSpotConfig({ ...hubspot.config, tenantId: tenant })),
      },
    });
    await runDemo(m);
  });
  afterAll(async () => {
    await m?.close();
    await hubspot?.fake.close();
  });

  const api = async (method: string, route: string, who?: { token: string }, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${m.httpPort}${route}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(who ? { authorization: `Bearer ${who.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  it('lets a supervisor undo an executed action; the outcome is published and audited', async () => {
    const lead = await m.crm.get(DEMO_TENANT, 'lead-0001');
    expect(lead?.fields['status']).toBe('Qualified');
    const key = lead!.appliedActions[0];
    const route = `/v1/tenants/acme/executions/${encodeURIComponent(key)}`;

    expect(
      (await api('POST', `${route}/compensate`, undefined, { reason: 'wrong lead' })).status,
    ).toBe(401);
    expect(
      (await api('POST', `${route}/compensate`, auditor, { reason: 'wrong lead' })).status,
    ).toBe(403);
    expect(
      (await api('POST', `${route}/compensate`, otherSupervisor, { reason: 'wrong lead' })).status,
    ).toBe(403);
    expect((await api('POST', `${route}/compensate`, supervisor, {})).status).toBe(400);
    expect((await api('GET', route, auditor)).body).toMatchObject({
      status: 'executed',
      reversible: true,
    });

    const done = await api('POST', `${route}/compensate`, supervisor, {
      reason: 'qualified the wrong lead',
    });
    expect(done).toMatchObject({ status: 201, body: { result: 'compensated' } });
    const after = await m.crm.get(DEMO_TENANT, 'lead-0001');
    expect(after?.fields['status']).toBe('New');
    expect(after?.fields['score']).toBeUndefined();
    expect(
      (await api('POST', `${route}/compensate`, supervisor, { reason: 'again please' })).body,
    ).toMatchObject({
      result: 'duplicate',
    });
    expect(
      (
        await api('POST', '/v1/tenants/acme/executions/nope/compensate', supervisor, {
          reason: 'x y z',
        })
      ).status,
    ).toBe(404);

    const chain = await waitFor('the compensation audit record', async () => {
      const c = await m.ledger.byCorrelation(DEMO_TENANT, 'demo-lead-0001');
      return c.some((e) => e.record?.summary.includes('compensated')) ? c : undefined;
    });
    const audit = chain.find((e) => e.record?.summary.includes('compensated'))!;
    expect(audit.record!.kind).toBe(AuditKind.AUDIT_KIND_EXECUTION);
    expect(audit.record!.summary).toContain('sup-acme');
  });

  it('ingests a signed HubSpot webhook once, and refuses a forged one', async () => {
    hubspot.fake.takeWebhooks();
    hubspot.seed('contact', { name: 'Webhook Person', email: 'w@initech.example' });
    const [call] = hubspot.fake.takeWebhooks();
    expect(call).toBeDefined();
    const post = (body: Buffer, headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${port}/v1/tenants/${HUBSPOT_TENANT}/connectors/webhook`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
      });
    const headers = Object.fromEntries(
      Object.entries(call.headers).filter(([k]) => k.startsWith('x-hubspot')),
    );
    const first = await post(call.rawBody, headers);
    expect(first.status).toBe(200);
    const received = (await first.json()) as { received: number; new: number };
    expect(received.new).toBeGreaterThan(0);
    expect(received.new).toBe(received.received);
    // HubSpot retries the same call: nothing new.
    expect(await (await post(call.rawBody, headers)).json()).toMatchObject({ new: 0 });
    // A body changed in transit fails the signature: 401, nothing ingested.
    const forged = Buffer.from(call.rawBody.toString('utf8').replace('contact', 'company'));
    expect((await post(forged, headers)).status).toBe(401);

    const events = await waitFor('the ingested change events', async () => {
      const records = m.runtime.broker
        .records(Topics.crmChanges.name)
        .filter((r) => (r.key ?? '').startsWith(HUBSPOT_TENANT));
      return records.length >= received.new ? records : undefined;
    });
    const decoded = events.map((r) => CrmChangeEvent.decode(r.value ?? new Uint8Array()));
    expect(
      decoded.every((e) => e.sourceSystem === 'hubspot' && e.tenantId === HUBSPOT_TENANT),
    ).toBe(true);
    expect(decoded.some((e) => e.changeType === ChangeType.CHANGE_TYPE_CREATED)).toBe(true);
    expect(decoded).toHaveLength(received.new);
    // The embedded tenants have no webhook connector.
    expect((await api('POST', '/v1/tenants/acme/connectors/webhook', undefined, [])).status).toBe(
      404,
    );
  });

  it('reads only the requested fields of a record over gRPC, and refuses unknown ones', async () => {
    const client = new ConnectorServiceClient(
      `127.0.0.1:${m.grpcPort}`,
      credentials.createInsecure(),
    );
    const get = (fields: string[]) =>
      new Promise<GetRecordResponse>((resolve, reject) =>
        client.getRecord(
          { tenantId: 'acme', record: { objectType: 'opportunity', recordId: 'opp-0001' }, fields },
          (err, res) => (err ? reject(err) : resolve(res)),
        ),
      );
    try {
      const res = await get(['stage', 'amountMinor']);
      expect(res.found).toBe(true);
      expect(Object.keys(res.fields ?? {}).sort()).toEqual(['amountMinor', 'stage']);
      await expect(get(['password'])).rejects.toMatchObject({ code: 3 });
      const all = await get([]);
      expect(Object.keys(all.fields ?? {})).not.toContain('password');
      expect(Object.keys(all.fields ?? {}).length).toBeGreaterThan(2);
    } finally {
      client.close();
    }
  });
});
