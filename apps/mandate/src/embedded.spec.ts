import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  AuditKind,
  ChangeType,
  CrmChangeEvent,
  GetOversightRequest,
  PolicyServiceClient,
} from '@mandate/contracts';
import { DLQ_HEADERS, Topics } from '@mandate/messaging';
import { rootFromLeafHashes } from '@mandate/ledger-domain';
import { createLogger, generateApiToken, serviceTokenMetadata } from '@mandate/platform';
import { DEMO_STEPS, DEMO_TENANT, EmbeddedMandate, runDemo, startEmbedded } from './embedded';
import { waitFor } from './testing/wait-for';

describe('embedded Mandate (all five services in one process)', () => {
  let m: EmbeddedMandate;
  /** A user of acme's embedded CRM (the CRM's HTTP routes need a token bound to the tenant). */
  const crmUser = generateApiToken();

  beforeAll(async () => {
    m = await startEmbedded({
      logger: createLogger('mandate-test', 'silent'),
      apiTokens: [
        { id: 'crm-acme', roles: ['crm-user'], tenantId: 'acme', sha256: crmUser.sha256 },
      ],
      httpPort: 0,
      grpcPort: 0,
    });
  });
  afterAll(async () => {
    await m.close();
  });

  it('runs the demo: a qualified lead is executed in the CRM with every step in the ledger under one correlation id', async () => {
    const chains = await runDemo(m);
    const lead = await m.crm.get(DEMO_TENANT, 'lead-0001');
    expect(lead?.fields['status']).toBe('Qualified');
    expect(lead?.appliedActions).toHaveLength(1);

    const chain = chains.get('lead-0001')!;
    const kinds = chain.map((e) => AuditKind[e.record!.kind]);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'AUDIT_KIND_CRM_CHANGE',
        'AUDIT_KIND_CONTEXT_PREPARED',
        'AUDIT_KIND_PROPOSAL',
        'AUDIT_KIND_DECISION',
        'AUDIT_KIND_EXECUTION',
      ]),
    );
    expect(new Set(chain.map((e) => e.record!.correlationId))).toEqual(new Set(['demo-lead-0001']));
    const actors = new Set(chain.map((e) => e.record!.actor.split('/')[0]));
    expect(actors).toEqual(new Set(['crm-connectors', 'orchestrator', 'policy']));
  });

  it('keeps one W3C trace across every hop of a flow (trace context rides the Kafka headers)', async () => {
    const topics = [
      Topics.crmChanges,
      Topics.actionsProposed,
      Topics.policyDecisions,
      Topics.executionOutcomes,
    ];
    const traceIds = new Set<string>();
    let hops = 0;
    for (const t of topics) {
      for (const r of m.runtime.broker.records(t.name)) {
        if (r.headers['ce_correlationid'] !== 'demo-lead-0001') continue;
        hops++;
        expect(r.headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
        traceIds.add(r.headers['traceparent'].split('-')[1]);
      }
    }
    expect(hops).toBe(topics.length);
    expect(traceIds.size).toBe(1);
  });

  it('sends the low-fit lead to human review instead of executing it', async () => {
    const chains = await runDemo(m);
    const lead = await m.crm.get(DEMO_TENANT, 'lead-0002');
    expect(lead?.fields['status']).toBe('New');
    expect(lead?.appliedActions).toHaveLength(0);
    const kinds = chains.get('lead-0002')!.map((e) => e.record!.kind);
    expect(kinds).toContain(AuditKind.AUDIT_KIND_REVIEW_TASK);
    expect(kinds).not.toContain(AuditKind.AUDIT_KIND_EXECUTION);
  });

  it('runs all four agents on the demo data with the offline model, each proposal recording its prompt and model', async () => {
    const chains = await runDemo(m);
    expect([...chains.keys()].sort()).toEqual(DEMO_STEPS.map((s) => s.key).sort());
    const proposals = (key: string) =>
      chains.get(key)!.filter((e) => e.record!.kind === AuditKind.AUDIT_KIND_PROPOSAL);
    for (const step of DEMO_STEPS) {
      const chain = chains.get(step.key)!;
      expect(chain.some((e) => e.record!.actor === `orchestrator/${step.agent}`)).toBe(true);
      for (const p of proposals(step.key)) {
        const a = p.record!.attributes;
        expect(a['prompt']).toMatch(new RegExp(`^${step.agent}@\\d+$`));
        expect(a['promptHash']).not.toBe('');
        expect(a['offlineModel']).toBe('true');
        expect(a['modelLabel']).toBe('offline rules (not an LLM)');
      }
    }
    // Deal desk: denied above the small-deal ceiling, it adapts with smaller discounts.
    const deal = proposals('deal-desk').map((e) => /(\d+)% discount/.exec(e.record!.summary)?.[1]);
    expect(deal.slice(0, 3)).toEqual(['18', '15', '10']);
    const denials = chains
      .get('deal-desk')!
      .filter(
        (e) => e.record!.kind === AuditKind.AUDIT_KIND_DECISION && /DENY/.test(e.record!.summary),
      );
    expect(denials.length).toBeGreaterThanOrEqual(2);
    expect((await m.crm.get(DEMO_TENANT, 'opp-demo-0001'))?.appliedActions).toEqual([]);
    // Service triage acts on the case the email is about.
    expect(proposals('service-triage')[0].record!.subject?.recordId).toBe('case-0006');
    // Outreach: a follow-up draft to the contact, or a recorded reason not to write now.
    const outreach = chains
      .get('outreach')!
      .map((e) => e.record!.summary)
      .join('\n');
    expect(outreach).toMatch(/send_email|no action: [A-Z_]+/);
    const contact = await m.crm.get(DEMO_TENANT, 'con-0010');
    expect(outreach).not.toContain(String(contact?.fields['name']));
  });

  it('keeps the ledger gap-free, one leaf per record, and its root recomputable', async () => {
    const head = await m.ledger.head(DEMO_TENANT);
    const all = (
      await Promise.all(
        DEMO_STEPS.map((step) => m.ledger.byCorrelation(DEMO_TENANT, `demo-${step.key}`)),
      )
    ).flat();
    // Only the demo chains exist so far: together they are the whole log.
    expect(head.size).toBe(all.length);
    const sorted = all.sort((a, b) => Number(a.leafIndex) - Number(b.leafIndex));
    expect(sorted.map((e) => Number(e.leafIndex))).toEqual([...Array(all.length).keys()]);
    expect(rootFromLeafHashes(sorted.map((e) => e.leafHash)).equals(head.root)).toBe(true);
  });

  it('executes a redelivered change event exactly once', async () => {
    const fields = {
      employees: 500,
      title: 'CTO',
      source: 'referral',
      notes: 'budget approved',
      email: 'x@corp.example',
      // Policy needs the industry: a lead without one might be regulated, so a human decides.
      industry: 'software',
    };
    await m.crm.create(DEMO_TENANT, 'lead', 'lead-redelivery', fields, 'corr-redelivery');
    const event = CrmChangeEvent.fromPartial({
      eventId: 'replayed-1',
      tenantId: DEMO_TENANT,
      correlationId: 'corr-redelivery',
      objectType: 'lead',
      recordId: 'lead-redelivery',
      changeType: ChangeType.CHANGE_TYPE_CREATED,
      snapshot: fields,
    });
    // The same event delivered three times (same CloudEvents id, as a redelivery would be).
    for (let i = 0; i < 3; i++) {
      await m.runtime.bus.publish(Topics.crmChanges, event, {
        tenantId: DEMO_TENANT,
        correlationId: 'corr-redelivery',
        source: 'test',
        id: 'replayed-1',
      });
    }
    await waitFor('two executions', async () => {
      const r = await m.crm.get(DEMO_TENANT, 'lead-redelivery');
      return r && r.appliedActions.length >= 2 ? r : undefined;
    });
    await new Promise((r) => setTimeout(r, 500));
    const record = await m.crm.get(DEMO_TENANT, 'lead-redelivery');
    // One execution for the record's own creation event, one for the replayed event id: never more.
    expect(record?.appliedActions).toHaveLength(2);
    expect(new Set(record?.appliedActions).size).toBe(2);
  });

  it('dead-letters a malformed message with its reason and keeps consuming', async () => {
    m.runtime.broker.append(Topics.actionsProposed.name, {
      key: 'acme/lead/x',
      value: Buffer.from('not protobuf'),
      headers: { ce_type: 'garbage' },
    });
    const dlq = await waitFor('a dead letter', async () => {
      const records = m.runtime.broker.records(Topics.actionsProposed.deadLetter);
      return records.length ? records : undefined;
    });
    expect(dlq[0].headers[DLQ_HEADERS.reason]).toMatch(/ce_/);
    // The consumer keeps going: a good lead after the bad message is still decided and executed.
    await m.crm.create(
      DEMO_TENANT,
      'lead',
      'lead-after-dlq',
      {
        employees: 900,
        title: 'VP Sales',
        source: 'referral',
        notes: 'pricing',
        industry: 'software',
      },
      'corr-after-dlq',
    );
    await waitFor('the next lead to be qualified', async () => {
      const r = await m.crm.get(DEMO_TENANT, 'lead-after-dlq');
      return r?.fields['status'] === 'Qualified' ? r : undefined;
    });
  });

  it('refuses bad CRM input with a clear 400 and writes nothing', async () => {
    const auth = { authorization: `Bearer ${crmUser.token}` };
    const post = (tenant: string, type: string, body: unknown, headers: object = auth) =>
      fetch(`http://127.0.0.1:${m.httpPort}/v1/tenants/${tenant}/crm/${type}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    // The CRM's HTTP routes need a token of the path's tenant.
    expect((await post('acme', 'lead', { id: 'x0', fields: {} }, {})).status).toBe(401);
    expect((await post('globex', 'lead', { id: 'x0', fields: {} })).status).toBe(403);
    const cases: Array<[string, string, unknown, RegExp]> = [
      ['acme', 'lead', { fields: {} }, /body must be/],
      ['acme', 'spaceship', { id: 'x1', fields: {} }, /unknown object type "spaceship"/],
      ['acme', 'lead', { id: 'bad id!', fields: {} }, /record id must be/],
      ['Not A Tenant', 'lead', { id: 'x2', fields: {} }, /tenant/i],
    ];
    for (const [tenant, type, body, message] of cases) {
      const res = await post(tenant, type, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(message);
    }
    expect(await m.crm.get(DEMO_TENANT, 'x0')).toBeNull();
    expect(await m.crm.get(DEMO_TENANT, 'x1')).toBeNull();
    const missing = await fetch(`http://127.0.0.1:${m.httpPort}/v1/tenants/acme/crm/lead/nope`, {
      headers: auth,
    });
    expect(missing.status).toBe(404);
  });

  it("lets acme's admin read a CRM record with the dev sign-in (the README's example), not its reviewers, supervisor or auditor", async () => {
    const base = `http://127.0.0.1:${m.httpPort}`;
    const login = async (sub: string) => {
      const res = await fetch(`${base}/v1/dev/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { token: string }).token;
    };
    const read = async (token: string) =>
      fetch(`${base}/v1/tenants/acme/crm/lead/lead-0001`, {
        headers: { authorization: `Bearer ${token}` },
      });
    const admin = await read(await login('adm-eve'));
    expect(admin.status).toBe(200);
    expect(((await admin.json()) as { id: string; fields: object }).id).toBe('lead-0001');
    // The review API redacts personal fields for these roles: the raw CRM route must not leak them.
    for (const sub of ['rev-ana', 'sup-cleo', 'aud-dan', 'rev-gus']) {
      const res = await read(await login(sub));
      expect([sub, res.status]).toEqual([sub, 403]);
    }
    // Nor may a person's token (the supervisor's) compensate an execution: operators only.
    const compensate = await fetch(`${base}/v1/tenants/acme/executions/any-key/compensate`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await login('sup-cleo')}`,
      },
      body: JSON.stringify({ reason: 'undo it' }),
    });
    expect(compensate.status).toBe(401);
  });

  it("refuses policy's oversight and kill switch rpcs on its gRPC port (no control tokens here; the console uses policy in process)", async () => {
    const client = new PolicyServiceClient(`127.0.0.1:${m.grpcPort}`, credentials.createInsecure());
    const getOversight = (metadata: Metadata) =>
      new Promise<ServiceError | null>((resolve) =>
        client.getOversight(
          GetOversightRequest.fromPartial({ tenantId: 'acme' }),
          metadata,
          (err) => resolve(err),
        ),
      );
    try {
      for (const metadata of [new Metadata(), serviceTokenMetadata(generateApiToken().token)]) {
        const err = await getOversight(metadata);
        expect(err?.code).toBe(status.PERMISSION_DENIED);
        expect(err?.details).toMatch(/set POLICY_CONTROL_TOKENS/);
      }
    } finally {
      client.close();
    }
    // The console's agents view still works: in process, no credential needed.
    const login = await fetch(`http://127.0.0.1:${m.httpPort}/v1/dev/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'adm-eve' }),
    });
    const { token } = (await login.json()) as { token: string };
    const agents = await fetch(`http://127.0.0.1:${m.httpPort}/v1/tenants/acme/agents`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(agents.status).toBe(200);
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    const base = `http://127.0.0.1:${m.httpPort}`;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/mandate_messages_handled_total\{[^}]*service="policy"/);
  });
});
