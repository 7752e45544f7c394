import { createServer } from 'node:net';
import { credentials } from '@grpc/grpc-js';
import { hubspotTestBed, type HubSpotTestBed } from '@mandate/connector-hubspot/testing';
import { HubSpotAdapter, parseHubSpotConfig } from '@mandate/connector-hubspot';
import { SalesforceAdapter } from '@mandate/connector-salesforce';
import { salesforceHarness, type SalesforceHarness } from '@mandate/connector-salesforce/testing';
import { findOrderComparator } from '@mandate/connector-sdk';
import { DEMO_DATASET } from '@mandate/connectors-domain';
import { ChangeFeedHost } from '@mandate/connectors-service';
import {
  ActionProposal,
  AuditKind,
  ChangeType,
  ConnectorServiceClient,
  CrmAction,
  CrmChangeEvent,
  ExecutionOutcome,
  ExecutionStatus,
  ErrorClass,
  PolicyDecision,
  Verdict,
  type GetCapabilitiesResponse,
  type GetRecordResponse,
} from '@mandate/contracts';
import { DLQ_HEADERS, Topics } from '@mandate/messaging';
import {
  ConnectorCallError,
  ConnectorRecordsClient,
  createLogger,
  generateApiToken,
} from '@mandate/platform';
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
const auditor: Operator = {
  id: 'aud-1',
  roles: ['auditor'],
  tenantId: 'acme',
  ...generateApiToken(),
};
const HUBSPOT_TENANT = 'initech';
const SALESFORCE_TENANT = 'globex';

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
  let salesforce: SalesforceHarness;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    hubspot = await hubspotTestBed({
      tenantId: HUBSPOT_TENANT,
      webhookUrl: `http://127.0.0.1:${port}/v1/tenants/${HUBSPOT_TENANT}/connectors/webhook`,
    });
    salesforce = await salesforceHarness();
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
        tenants: {
          [HUBSPOT_TENANT]: { connector: 'hubspot', settings: {} },
          [SALESFORCE_TENANT]: { connector: 'salesforce', settings: {} },
        },
      },
      connectorFactories: {
        salesforce: (tenant) => new SalesforceAdapter({ ...salesforce.config, tenantId: tenant }),
        hubspot: (tenant) =>
          new HubSpotAdapter(parseHubSpotConfig({ ...hubspot.config, tenantId: tenant })),
      },
    });
    await runDemo(m);
  });
  afterAll(async () => {
    await m?.close();
    await hubspot?.fake.close();
    await salesforce?.close();
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

  it("finds an agent's related records over gRPC on each tenant's connector", async () => {
    const client = new ConnectorRecordsClient({ address: `127.0.0.1:${m.grpcPort}` });
    try {
      // Embedded (demo dataset): an opportunity's activities, newest first.
      const activities = DEMO_DATASET.filter((r) => r.objectType === 'activity');
      const counts = new Map<string, number>();
      for (const a of activities)
        counts.set(
          String(a.fields['relatedId']),
          (counts.get(String(a.fields['relatedId'])) ?? 0) + 1,
        );
      const [relatedId] = [...counts.entries()].find(([, n]) => n >= 2)!;
      const expected = activities
        .filter((a) => a.fields['relatedId'] === relatedId)
        .sort(
          findOrderComparator(
            { field: 'occurredAt', descending: true },
            (a) => a.fields,
            (a) => a.id,
          ),
        )
        .map((a) => a.id);
      const found = await client.findRecords('acme', {
        objectType: 'activity',
        equals: { relatedId },
        fields: ['occurredAt', 'kind'],
        orderBy: 'occurredAt',
        descending: true,
        limit: 200,
      });
      expect(found.records.map((r) => r.recordId)).toEqual(expected);
      expect(found.truncated).toBe(false);
      expect(Object.keys(found.records[0].fields).sort()).toEqual(['kind', 'occurredAt']);
      const owners = await client.findRecords('acme', {
        objectType: 'user',
        equals: { role: 'account_executive', active: 'true' },
        fields: ['territory'],
      });
      expect(owners.records.length).toBeGreaterThan(0);
      expect(owners.records.length).toBe(
        DEMO_DATASET.filter(
          (r) =>
            r.objectType === 'user' &&
            r.fields['role'] === 'account_executive' &&
            r.fields['active'] === true,
        ).length,
      );

      // Salesforce: an account's contacts (one SOQL query).
      const sfAccount = await salesforce.seed('account', { name: 'Find Co' });
      const sfContact = await salesforce.seed('contact', {
        name: 'Dana Lee',
        accountId: sfAccount,
      });
      await salesforce.seed('contact', { name: 'Other Person' });
      const sf = await client.findRecords(SALESFORCE_TENANT, {
        objectType: 'contact',
        equals: { accountId: sfAccount },
        fields: ['name'],
      });
      expect(sf.records).toEqual([{ recordId: sfContact, fields: { name: 'Dana Lee' } }]);

      // HubSpot: a company's contacts (search API by association).
      const company = hubspot.seed('account', { name: 'Find Inc' });
      const contact = hubspot.seed('contact', { name: 'Dana Lee' });
      hubspot.fake.associate('contacts', contact, 'companies', company, 1);
      const hs = await client.findRecords(HUBSPOT_TENANT, {
        objectType: 'contact',
        equals: { accountId: company },
        fields: ['name', 'accountId'],
      });
      expect(hs.records).toEqual([
        { recordId: contact, fields: { name: 'Dana Lee', accountId: company } },
      ]);

      await expect(
        client.findRecords('acme', { objectType: 'contact', equals: { password: 'x' } }),
      ).rejects.toMatchObject({ code: 3 });
      await expect(client.findRecords('acme', { objectType: 'contact' })).resolves.toMatchObject({
        truncated: true,
      });
      const err = await client
        .findRecords(HUBSPOT_TENANT, { objectType: 'contact', equals: { name: 'Dana Lee' } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorCallError);
      expect((err as ConnectorCallError).details).toMatch(/FIELD_NOT_FILTERABLE|cannot compare/);
    } finally {
      client.close();
    }
  });

  it("answers each tenant's capabilities over gRPC", async () => {
    const client = new ConnectorServiceClient(
      `127.0.0.1:${m.grpcPort}`,
      credentials.createInsecure(),
    );
    const caps = (tenant: string) =>
      new Promise<GetCapabilitiesResponse>((resolve, reject) =>
        client.getCapabilities({ tenantId: tenant }, (err, res) =>
          err ? reject(err) : resolve(res),
        ),
      );
    try {
      expect((await caps('acme')).connector).toBe('embedded');
      expect((await caps(HUBSPOT_TENANT)).connector).toBe('hubspot');
      const sf = await caps(SALESFORCE_TENANT);
      expect(sf.connector).toBe('salesforce');
      expect(sf.supportedActions).toContain('apply_discount');
      expect(sf.objects.find((o) => o.objectType === 'lead')?.fields.length).toBeGreaterThan(3);
    } finally {
      client.close();
    }
  });

  it('polls Salesforce from a durable cursor and announces each change once', async () => {
    const host = m.app.get(ChangeFeedHost);
    const fromGlobex = () =>
      m.runtime.broker
        .records(Topics.crmChanges.name)
        .filter((r) => (r.key ?? '').startsWith(SALESFORCE_TENANT))
        .map((r) => CrmChangeEvent.decode(r.value ?? new Uint8Array()));
    await host.pass(); // whatever the fake org holds already
    const before = fromGlobex().length;
    const id = await salesforce.seed('lead', { name: 'Polly Polled', status: 'New' });
    await host.pass();
    await host.pass(); // nothing new: the cursor moved
    const events = await waitFor('the polled change', async () => {
      const e = fromGlobex();
      return e.length > before ? e : undefined;
    });
    const mine = events.filter((e) => e.recordId === id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      sourceSystem: 'salesforce',
      objectType: 'lead',
      tenantId: SALESFORCE_TENANT,
    });
    expect(mine[0].snapshot?.['name']).toBe('Polly Polled');
  });

  it('records a decision that fails for good as FAILED and dead-letters it with the reason', async () => {
    const proposal = ActionProposal.fromPartial({
      proposalId: 'p-dlq-1',
      tenantId: 'acme',
      correlationId: 'corr-dlq-1',
      agentId: 'deal-desk',
      idempotencyKey: 'key-dlq-1',
      target: { objectType: 'opportunity', recordId: 'opp-does-not-exist' },
      action: CrmAction.fromPartial({
        kind: {
          $case: 'applyDiscount',
          value: { discountPercent: 5, reason: 'r', listAmount: undefined },
        },
      }),
    });
    const decision = PolicyDecision.fromPartial({
      decisionId: 'd-dlq-1',
      tenantId: 'acme',
      correlationId: proposal.correlationId,
      proposal,
      verdict: Verdict.VERDICT_AUTO,
      token: m.decisionIssuer.issue(proposal, Verdict.VERDICT_AUTO),
    });
    await m.runtime.bus.publish(Topics.policyDecisions, decision, {
      tenantId: 'acme',
      correlationId: proposal.correlationId,
      source: 'test',
      id: 'dlq-decision-1',
    });
    const dead = await waitFor('the dead-lettered decision', async () =>
      m.runtime.broker
        .records(`${Topics.policyDecisions.name}.dlq`)
        .find((r) => r.headers['ce_id'] === 'dlq-decision-1'),
    );
    expect(dead.headers[DLQ_HEADERS.kind]).toBe('rejected');
    expect(dead.headers[DLQ_HEADERS.reason]).toMatch(/permanent RECORD_NOT_FOUND/);
    const outcome = await waitFor('the FAILED outcome', async () =>
      m.runtime.broker
        .records(Topics.executionOutcomes.name)
        .map((r) => ExecutionOutcome.decode(r.value ?? new Uint8Array()))
        .find((o) => o.idempotencyKey === 'key-dlq-1'),
    );
    expect([outcome.status, outcome.errorClass]).toEqual([
      ExecutionStatus.EXECUTION_STATUS_FAILED,
      ErrorClass.ERROR_CLASS_PERMANENT,
    ]);
  });
});
