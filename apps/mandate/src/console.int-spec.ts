import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO_DATASET, DEMO_SCENARIOS } from '@mandate/connectors-domain';
import { AuditKind } from '@mandate/contracts';
import { NoteSigner, signNote } from '@mandate/ledger-domain';
import { createLogger } from '@mandate/platform';
// eslint-disable-next-line @nx/enforce-module-boundaries -- tools/browser is the test-only browser toolchain, not a project
import { launchChromium } from '../../../tools/browser/chromium';
import {
  DEMO_DISCOUNT_OPPORTUNITY,
  DEMO_REVIEW_CONFIG,
  DEMO_TENANT,
  runDemo,
  seedTrackRecord,
  startEmbedded,
  type EmbeddedMandate,
} from './embedded';
import { waitFor } from './testing/wait-for';

/**
 * The review console in a real browser (Debian's chromium under playwright-core) against the
 * embedded process: sign-in, queue, evidence, edit-then-approve through to the CRM, four-eyes, the
 * SLA fail-safe, the auditor's read-only view and tenant isolation. Screenshots go to a temporary
 * directory; to refresh the README's, run with MANDATE_SCREENSHOTS_DIR=docs/console.
 */

const SHOTS = process.env.MANDATE_SCREENSHOTS_DIR
  ? path.resolve(process.env.MANDATE_SCREENSHOTS_DIR)
  : path.join(tmpdir(), 'mandate-console-screenshots');
const MY_OPPORTUNITY = 'opp-console-0001';
const MY_CORRELATION = 'console-discount';

interface TaskRow {
  taskId: string;
  status: string;
  actionType: string;
  requiredApprovals: number;
  target: { objectType: string; recordId: string };
}

describe('review console (browser)', () => {
  let m: EmbeddedMandate;
  let browser: Browser;
  let api: string;
  let origin: string;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  const token = async (sub: string): Promise<string> => {
    const res = await fetch(`${api}/v1/dev/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  };
  const call = async (sub: string, method: string, route: string, body?: unknown) => {
    const res = await fetch(`${api}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${await token(sub)}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const tasks = async (): Promise<TaskRow[]> =>
    (await call('sup-cleo', 'GET', '/v1/tenants/acme/review/tasks?limit=100')).body[
      'items'
    ] as TaskRow[];
  const taskFor = async (recordId: string, actionType: string) =>
    waitFor(`a ${actionType} task on ${recordId}`, async () =>
      (await tasks()).find((t) => t.target.recordId === recordId && t.actionType === actionType),
    );

  async function signIn(sub: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${origin}/console/`);
    await page.locator(`button[data-sub="${sub}"]`).click();
    await expect(page.getByTestId('user-id').textContent()).resolves.toBe(sub);
    return page;
  }
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    m = await startEmbedded({
      logger: createLogger('console-test', 'silent'),
      httpPort: 0,
      grpcPort: 0,
      reviewSweepIntervalMs: 0,
      reviewConfig: {
        ...DEMO_REVIEW_CONFIG,
        // Low and medium risk may be approved in a batch here (the default is low only).
        batch: { riskBands: ['low', 'medium'] },
        sla: {
          byActionType: {
            // The triage task expires within seconds (the fail-safe scenario); the lead's warns at once.
            update_field: { tiers: [{ slaMs: 2_500 }], warnBeforeMs: 1_000, onExpiry: 'reject' },
            disqualify_lead: { tiers: [{ slaMs: 30 * 60_000 }], warnBeforeMs: 29 * 60_000 },
          },
        },
      },
    });
    api = `http://127.0.0.1:${m.httpPort}`;
    origin = api; // human-review serves the console at /console/ on the same origin as its API
    await runDemo(m);
    // The deal desk has a clean record for discounts, so a high-risk discount needs one approver.
    await seedTrackRecord(m, 'deal-desk', 'apply_discount');
    await m.crm.create(
      DEMO_TENANT,
      'opportunity',
      MY_OPPORTUNITY,
      {
        name: 'Northwind Freight — fleet analytics',
        accountId: 'acc-0001',
        stage: 'Negotiation',
        amountMinor: 5_000_000,
        currencyCode: 'EUR',
        discountPercent: 0,
        closeDate: '2026-12-31',
        notes: 'The customer asks for 15% off in exchange for a three-year commitment.',
      },
      MY_CORRELATION,
    );
    await taskFor(MY_OPPORTUNITY, 'apply_discount');
    browser = await launchChromium();
  });

  afterEach(() => {
    expect(pageErrors).toEqual([]);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await m?.close();
  });

  it('a reviewer edits a discount down, approves it, and sees it executed in the CRM with its audit chain', async () => {
    const task = await taskFor(MY_OPPORTUNITY, 'apply_discount');
    expect(task.requiredApprovals).toBe(1);
    const page = await signIn('rev-ana');
    await expect(page.getByTestId('user-role').textContent()).resolves.toBe('reviewer');
    const rows = page.locator('tbody tr.row');
    await waitFor('the queue', async () => ((await rows.count()) >= 3 ? true : undefined));
    // Let the countdowns pass the triage task's deadline: the queue shows it overdue.
    await page.waitForTimeout(2_600);
    await shot(page, 'queue');

    // Keyboard only: j down to the discount, Enter opens it.
    const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-task-id')));
    const index = ids.indexOf(task.taskId);
    expect(index).toBeGreaterThanOrEqual(0);
    await page.locator('tbody tr.row.selected').focus();
    for (let i = 0; i < index; i++) await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/console/#/task/${task.taskId}`);

    const diff = page.getByTestId('diff').locator('tr[data-field="discountPercent"]');
    await expect(diff.locator('td').first().textContent()).resolves.toBe('0');
    await expect(diff.locator('td').nth(1).textContent()).resolves.toContain('15');
    await expect(page.getByTestId('model').textContent()).resolves.toBe(
      'offline rules (not an LLM)',
    );
    expect(await page.locator('svg.risk-chart rect').count()).toBeGreaterThan(3);
    await expect(page.locator('.rationale').textContent()).resolves.not.toBe('—');
    // The agent's trust trend for discounts: the seeded track record, point by point.
    const trend = page.getByTestId('trust-trend').locator('svg.trust-chart');
    await trend.waitFor();
    expect(Number(await trend.getAttribute('data-points'))).toBeGreaterThan(10);
    await shot(page, 'item');

    await page.keyboard.press('e');
    await page.locator('#edit-discountPercent').fill('10');
    await shot(page, 'edit');
    await page.getByRole('button', { name: 'Approve edited action' }).click();
    await page
      .getByTestId('decision-result')
      .getByText(/Approved by rev-ana/)
      .waitFor();
    await expect(page.getByTestId('status').textContent()).resolves.toBe('approved');
    await page.getByTestId('crm-now').getByText('executed').waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('crm-now').textContent()).resolves.toContain(
      'discountPercent = 10',
    );
    await expect(page.getByTestId('history').textContent()).resolves.toMatch(/EDIT_APPROVE/);
    // The audit trail, every entry checked in the browser against the signed checkpoint.
    const audit = page.getByTestId('audit');
    await audit.locator('tr[data-kind="EXECUTION"] [data-proof="verified"]').waitFor({
      timeout: 15_000,
    });
    for (const kind of ['PROPOSAL', 'DECISION', 'REVIEW_TASK', 'REVIEW_DECISION', 'EXECUTION'])
      await expect(
        audit.locator(`tr[data-kind="${kind}"] [data-proof]`).first().getAttribute('data-proof'),
      ).resolves.toBe('verified');
    await expect(audit.locator('tr[data-kind="REVIEW_DECISION"]').textContent()).resolves.toContain(
      'rev-ana',
    );
    await expect(audit.getByTestId('chain-head').textContent()).resolves.toContain(
      'signed by mandate-embedded/ledger+',
    );
    await shot(page, 'executed');

    const record = await m.crm.get(DEMO_TENANT, MY_OPPORTUNITY);
    expect(record?.fields['discountPercent']).toBe(10);
    expect(record?.appliedActions).toHaveLength(1);
    const chain = await waitFor('the execution in the ledger', async () => {
      const c = await m.ledger.byCorrelation(DEMO_TENANT, MY_CORRELATION);
      return c.some((e) => e.record!.kind === AuditKind.AUDIT_KIND_EXECUTION) ? c : undefined;
    });
    const kinds = chain.map((e) => e.record!.kind);
    for (const k of [
      AuditKind.AUDIT_KIND_PROPOSAL,
      AuditKind.AUDIT_KIND_DECISION,
      AuditKind.AUDIT_KIND_REVIEW_TASK,
      AuditKind.AUDIT_KIND_REVIEW_DECISION,
      AuditKind.AUDIT_KIND_EXECUTION,
    ])
      expect(kinds).toContain(k);
    const review = chain.find((e) => e.record!.kind === AuditKind.AUDIT_KIND_REVIEW_DECISION)!;
    expect(`${review.record!.actor} ${review.record!.summary}`).toContain('rev-ana');
  });

  it('a four-eyes item needs a second, different approver', async () => {
    const task = await taskFor(DEMO_DISCOUNT_OPPORTUNITY, 'apply_discount');
    expect(task.requiredApprovals).toBe(2);
    const ana = await signIn('rev-ana');
    await ana.goto(`${origin}/console/#/task/${task.taskId}`);
    await expect(ana.getByTestId('approvals').textContent()).resolves.toContain('0/2');
    await ana.keyboard.press('a');
    await ana.keyboard.press('Enter');
    await ana
      .getByTestId('decision-result')
      .getByText(/second, different reviewer/)
      .waitFor();
    await expect(ana.getByTestId('approvals').textContent()).resolves.toContain('1/2');
    // The same reviewer again: the server refuses, and the console says why.
    await ana.keyboard.press('a');
    await ana.keyboard.press('Enter');
    await ana
      .getByTestId('decision-result')
      .getByText(/refused/)
      .waitFor();
    await shot(ana, 'four-eyes');
    expect((await m.crm.get(DEMO_TENANT, DEMO_DISCOUNT_OPPORTUNITY))?.appliedActions).toEqual([]);

    const ben = await signIn('rev-ben');
    await ben.goto(`${origin}/console/#/task/${task.taskId}`);
    await ben.getByRole('button', { name: /^Approve/ }).click();
    await ben.getByRole('button', { name: 'Confirm approval' }).click();
    await ben
      .getByTestId('decision-result')
      .getByText(/Approved by rev-ana, rev-ben/)
      .waitFor();
    await waitFor('the discount executed', async () => {
      const r = await m.crm.get(DEMO_TENANT, DEMO_DISCOUNT_OPPORTUNITY);
      return r?.appliedActions.length === 1 ? r : undefined;
    });
  });

  it('an expired item fails safe: rejected by the SLA, nothing executed, no decision possible', async () => {
    const task = await taskFor('case-0006', 'update_field');
    await waitFor('the deadline to pass', async () =>
      Date.now() > new Date((task as unknown as { dueAt: string }).dueAt).getTime() + 100
        ? true
        : undefined,
    );
    await m.reviewSla.sweepNow();
    const page = await signIn('rev-ana');
    await page.goto(`${origin}/console/#/task/${task.taskId}`);
    await expect(page.getByTestId('status').textContent()).resolves.toMatch(/rejected|expired/);
    await expect(page.getByTestId('history').textContent()).resolves.toMatch(/SLA_EXPIRED/);
    expect(await page.getByRole('button', { name: /^Approve/ }).count()).toBe(0);
    await shot(page, 'expired');
    const late = await call(
      'rev-ana',
      'POST',
      `/v1/tenants/acme/review/tasks/${task.taskId}/decision`,
      {
        outcome: 'APPROVE',
      },
    );
    expect(late.status).toBe(409);
    expect((await m.crm.get(DEMO_TENANT, 'case-0006'))?.fields['priority']).toBe('medium');
  });

  it('an auditor reads the evidence (personal data masked) but cannot approve', async () => {
    const task = await taskFor('lead-0002', 'disqualify_lead');
    // Signed in the production way: the identity provider's token in the fragment.
    const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${origin}/console/#token=${encodeURIComponent(await token('aud-dan'))}`);
    await expect(page.getByTestId('user-role').textContent()).resolves.toBe('auditor');
    expect(page.url()).not.toContain('token=');
    await page.goto(`${origin}/console/#/task/${task.taskId}`);
    await page.getByTestId('read-only').waitFor();
    expect(await page.getByRole('button', { name: /^Approve/ }).count()).toBe(0);
    await page.keyboard.press('a');
    expect(await page.locator('form.panel').count()).toBe(0);
    const record = page.getByTestId('record');
    await expect(record.textContent()).resolves.toContain('•••');
    await expect(record.textContent()).resolves.not.toContain('gmail.com');
    await shot(page, 'auditor');
    const refused = await call(
      'aud-dan',
      'POST',
      `/v1/tenants/acme/review/tasks/${task.taskId}/decision`,
      {
        outcome: 'APPROVE',
      },
    );
    expect(refused.status).toBe(403);
    expect((await m.crm.get(DEMO_TENANT, 'lead-0002'))?.fields['status']).toBe('New');
  });

  it("the ledger view checks a record's causal chain in the browser and flags tampering", async () => {
    const page = await signIn('aud-dan');
    const verified = page.locator('[data-testid="chain"] [data-proof="verified"]');
    await page.goto(`${origin}/console/#/ledger?objectType=lead&recordId=lead-0001`);
    await page.locator('tr[data-kind="EXECUTION"] [data-proof="verified"]').waitFor();
    const rows = await page.locator('[data-testid="chain"] tbody tr').count();
    expect(rows).toBeGreaterThanOrEqual(3);
    expect(await verified.count()).toBe(rows);
    await shot(page, 'ledger');

    // The same chain with one leaf byte flipped in transit: that entry, and only it, fails.
    const b64flip = (s: string) => {
      const b = Buffer.from(s, 'base64');
      b[b.length - 1] ^= 0x01;
      return b.toString('base64');
    };
    const chainUrl = (u: URL) => u.pathname.endsWith('/ledger/chain');
    type Chain = { entries: { leafIndex: number; leafData: string; auditPath: string[] }[] };
    let tampered = -1;
    await page.route(chainUrl, async (route) => {
      const res = await route.fetch();
      const chain = (await res.json()) as Chain;
      tampered = chain.entries[1].leafIndex;
      chain.entries[1].leafData = b64flip(chain.entries[1].leafData);
      await route.fulfill({ response: res, json: chain });
    });
    await page.reload();
    await page.locator('[data-testid="chain"] [data-proof="failed"]').waitFor();
    await page.locator(`tr[data-leaf="${tampered}"] [data-proof="failed"]`).waitFor();
    expect(await page.locator('[data-testid="chain"] [data-proof="failed"]').count()).toBe(1);
    await expect(
      page.getByTestId('chain-head').locator('[data-proof]').getAttribute('data-proof'),
    ).resolves.toBe('failed');

    // A forged proof (a hash of the audit path changed) fails too.
    await page.unroute(chainUrl);
    await page.route(chainUrl, async (route) => {
      const res = await route.fetch();
      const chain = (await res.json()) as Chain;
      const e = chain.entries.find((x) => x.auditPath.length > 0)!;
      tampered = e.leafIndex;
      e.auditPath[0] = b64flip(e.auditPath[0]);
      await route.fulfill({ response: res, json: chain });
    });
    await page.reload();
    await page.locator('[data-testid="chain"] [data-proof="failed"]').waitFor();
    await expect(
      page.locator(`tr[data-leaf="${tampered}"] [data-proof="failed"]`).getAttribute('title'),
    ).resolves.toContain('does not lead to the root');

    // A checkpoint signed by a key the console does not pin proves nothing.
    await page.unroute(chainUrl);
    await page.route(chainUrl, async (route) => {
      const res = await route.fetch();
      const chain = (await res.json()) as Chain & { checkpoint: { signedNote: string } };
      const forged = generateKeyPairSync('ed25519');
      const body = chain.checkpoint.signedNote.slice(
        0,
        chain.checkpoint.signedNote.lastIndexOf('\n\n') + 1,
      );
      const signer = new NoteSigner('mandate-embedded/ledger', forged.privateKey);
      chain.checkpoint.signedNote = signNote(body, [signer]);
      await route.fulfill({ response: res, json: chain });
    });
    await page.reload();
    await page.locator('[data-testid="chain"] [data-proof="failed"]').first().waitFor();
    await expect(
      page.getByTestId('chain-head').locator('[data-proof]').getAttribute('title'),
    ).resolves.toContain('no signature by a pinned key');
    await page.unroute(chainUrl);
  });

  it('the ledger view shows what the verified bytes say, and flags duplicated, foreign and fake-pending entries', async () => {
    const page = await signIn('aud-dan');
    const chainUrl = (u: URL) => u.pathname.endsWith('/ledger/chain');
    type Entry = { leafIndex: number; leafData: string; summary: string; auditPath?: string[] };
    type Chain = {
      entries: Entry[];
      pending: Entry[];
      checkpoint: { origin: string; treeSize: number };
    };
    const view = `${origin}/console/#/ledger?objectType=lead&recordId=lead-0001`;
    const tamper = async (change: (c: Chain) => void) => {
      await page.unroute(chainUrl);
      await page.route(chainUrl, async (route) => {
        const res = await route.fetch();
        const chain = (await res.json()) as Chain;
        change(chain);
        await route.fulfill({ response: res, json: chain });
      });
      await page.goto(`${origin}/console/#/queue`);
      await page.goto(view);
      await page.locator('[data-testid="chain"] [data-proof]').first().waitFor();
    };
    const failedTitles = () =>
      page
        .locator('[data-testid="chain"] [data-proof="failed"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''));

    // The summary beside the bytes says something else: the console shows the bytes' summary.
    await tamper((c) => {
      for (const e of c.entries) e.summary = 'nothing to see here';
    });
    await expect(page.getByTestId('chain').textContent()).resolves.not.toContain(
      'nothing to see here',
    );
    expect(await failedTitles()).toEqual([]);

    // One entry listed twice (a forged copy beside the genuine one): both fail.
    await tamper((c) => c.entries.push({ ...c.entries[0] }));
    expect(await failedTitles()).toEqual([
      expect.stringContaining('listed more than once'),
      expect.stringContaining('listed more than once'),
    ]);

    // A proven entry passed off as "awaiting the next checkpoint" (no proof to check).
    await tamper((c) => {
      const e = c.entries.pop()!;
      delete e.auditPath;
      c.pending.push(e);
    });
    expect(await failedTitles()).toEqual([expect.stringContaining('already covers it')]);

    // Another log's checkpoint (another tenant's origin), however well signed.
    await tamper((c) => {
      c.checkpoint.origin = c.checkpoint.origin.replace(/\/acme$/, '/globex');
    });
    await expect(
      page.getByTestId('chain-head').locator('[data-proof]').getAttribute('title'),
    ).resolves.toContain('not "mandate-embedded/ledger/acme"');
    await page.unroute(chainUrl);

    // The console's table of audit kinds matches the contract's enum.
    // (a string, so that the test's compiler does not rewrite the browser's dynamic import)
    const kinds = (await page.evaluate(
      "import('/console/verify.js').then((m) => m.AUDIT_KINDS)",
    )) as string[];
    const contract: string[] = [];
    for (const [name, n] of Object.entries(AuditKind))
      if (typeof n === 'number' && n >= 0) contract[n] = name.replace(/^AUDIT_KIND_/, '');
    expect(kinds).toEqual(contract);
  });

  it('the agents view shows trust over time and autonomy; only an admin uses the kill switch', async () => {
    interface AgentsView {
      agents: {
        agentId: string;
        killSwitches: { scope: string; agentId?: string }[];
        actionTypes: {
          actionType: string;
          history: unknown[];
          autonomy: { effective: Record<string, string> };
        }[];
      }[];
    }
    const reviewer = await signIn('rev-ana');
    await reviewer.goto(`${origin}/console/#/agents`);
    const desk = reviewer.locator('section.agent[data-agent="deal-desk"]');
    const discount = desk.locator('tr[data-action="apply_discount"]');
    await discount.waitFor();
    // The seeded track record: many outcomes, so a line with many points and a high score.
    expect(
      Number(await discount.locator('svg.trust-chart').getAttribute('data-points')),
    ).toBeGreaterThan(10);
    expect(Number(await discount.getByTestId('trust-score').textContent())).toBeGreaterThan(0.5);
    const api0 = (await call('rev-ana', 'GET', '/v1/tenants/acme/agents'))
      .body as unknown as AgentsView;
    const cells = api0.agents
      .find((a) => a.agentId === 'deal-desk')!
      .actionTypes.find((t) => t.actionType === 'apply_discount')!.autonomy.effective;
    for (const [riskBand, v] of Object.entries(cells))
      await expect(
        discount.locator(`td[data-band="${riskBand}"] .verdict`).textContent(),
      ).resolves.toBe(v.replace(/_/g, ' ').toLowerCase());
    expect(Object.keys(cells).length).toBeGreaterThanOrEqual(3);
    // A reviewer sees no kill switch, and the API refuses one.
    await reviewer.getByTestId('no-kill-switch').waitFor();
    expect(await reviewer.getByTestId('stop-agent').count()).toBe(0);
    const refused = await call('rev-ana', 'POST', '/v1/tenants/acme/agents/kill-switch', {
      scope: 'agent',
      agentId: 'outreach',
      mode: 'deny',
      reason: 'not mine to stop',
    });
    expect(refused.status).toBe(403);

    const admin = await signIn('adm-eve');
    await admin.goto(`${origin}/console/#/agents`);
    await admin.locator('section.agent[data-agent="deal-desk"] [data-testid="stop-agent"]').click();
    await admin.locator('#ks-reason').fill('pricing incident INC-42');
    await admin.getByRole('button', { name: 'Engage kill switch' }).click();
    await admin
      .locator('section.agent[data-agent="deal-desk"] [data-testid="kill-switches"]')
      .getByText('Stopped: deal-desk')
      .waitFor();
    await shot(admin, 'agents');
    const stopped = (await call('adm-eve', 'GET', '/v1/tenants/acme/agents'))
      .body as unknown as AgentsView;
    const deskNow = stopped.agents.find((a) => a.agentId === 'deal-desk')!;
    expect(deskNow.killSwitches).toEqual([
      expect.objectContaining({ scope: 'agent', agentId: 'deal-desk' }),
    ]);
    for (const t of deskNow.actionTypes)
      expect(new Set(Object.values(t.autonomy.effective))).toEqual(new Set(['DENY']));
    // Policy itself now denies the deal desk's proposals: a new discount request is refused.
    await m.crm.create(
      DEMO_TENANT,
      'opportunity',
      'opp-console-killed',
      {
        name: 'Contoso — renewal',
        accountId: 'acc-0001',
        stage: 'Negotiation',
        amountMinor: 2_000_000,
        currencyCode: 'EUR',
        discountPercent: 0,
        closeDate: '2026-12-31',
        notes: 'The customer asks for 10% off in exchange for a two-year commitment.',
      },
      'console-killed',
    );
    const denied = await waitFor('the decision under the kill switch', async () =>
      (await m.ledger.byCorrelation(DEMO_TENANT, 'console-killed')).find(
        (e) => e.record!.kind === AuditKind.AUDIT_KIND_DECISION,
      ),
    );
    expect(denied.record!.attributes['verdict']).toBe('VERDICT_DENY');
    expect(denied.record!.summary).toMatch(/KILL_SWITCH_AGENT/);
    // Not across tenants, not global.
    // Not in another tenant (403 here), not globally (no such scope in the console: 400).
    for (const [tenant, scope, status] of [
      ['globex', 'agent', 403],
      ['acme', 'global', 400],
    ] as const) {
      const r = await call('adm-eve', 'POST', `/v1/tenants/${tenant}/agents/kill-switch`, {
        scope,
        agentId: 'deal-desk',
        mode: 'deny',
        reason: 'overreach',
      });
      expect(r.status).toBe(status);
    }
    expect((await call('rev-gus', 'GET', '/v1/tenants/acme/agents')).status).toBe(403);

    // Released from the console: autonomy comes back.
    admin.once('dialog', (d) => void d.accept('incident resolved'));
    await admin
      .locator('section.agent[data-agent="deal-desk"] [data-testid="kill-switches"]')
      .getByRole('button', { name: 'Release' })
      .click();
    await waitFor('the switch released', async () => {
      const v = (await call('adm-eve', 'GET', '/v1/tenants/acme/agents'))
        .body as unknown as AgentsView;
      return v.agents.find((a) => a.agentId === 'deal-desk')!.killSwitches.length === 0
        ? v
        : undefined;
    });
  });

  it('a reviewer of another tenant sees nothing of this one', async () => {
    const task = await taskFor('lead-0002', 'disqualify_lead');
    const page = await signIn('rev-gus');
    await page.locator('.empty').waitFor();
    expect(await page.locator('tbody tr.row').count()).toBe(0);
    await page.goto(`${origin}/console/#/task/${task.taskId}`);
    await page
      .getByRole('alert')
      .getByText(/No task/)
      .waitFor();
    await expect(page.locator('main').textContent()).resolves.not.toContain('lead-0002');
    const list = await call('rev-gus', 'GET', '/v1/tenants/acme/review/tasks');
    expect(list.status).toBe(403);
    const one = await call('rev-gus', 'GET', `/v1/tenants/acme/review/tasks/${task.taskId}`);
    expect(one.status).toBe(403);
    const audit = await call(
      'rev-gus',
      'GET',
      `/v1/tenants/acme/review/tasks/${task.taskId}/audit`,
    );
    expect(audit.status).toBe(403);
    const chain = await call(
      'rev-gus',
      'GET',
      `/v1/tenants/acme/ledger/chain?correlationId=${MY_CORRELATION}`,
    );
    expect(chain.status).toBe(403);
    // In its own tenant the same correlation id names nothing.
    const own = await call(
      'rev-gus',
      'GET',
      `/v1/tenants/globex/ledger/chain?correlationId=${MY_CORRELATION}`,
    );
    expect(own.status).toBe(200);
    expect(own.body['entries']).toEqual([]);
    expect(own.body['pending']).toEqual([]);
  });
  it('batch-approves the selected low-risk items and refuses the rest, item by item', async () => {
    await m.crm.create(
      DEMO_TENANT,
      'opportunity',
      'opp-console-batch',
      {
        name: 'Fabrikam — analytics add-on',
        accountId: 'acc-0001',
        stage: 'Negotiation',
        amountMinor: 5_000_000,
        currencyCode: 'EUR',
        discountPercent: 0,
        closeDate: '2026-12-31',
        notes: 'The customer asks for 15% off in exchange for a three-year commitment.',
      },
      'console-batch',
    );
    const discount = (await taskFor('opp-console-batch', 'apply_discount')) as TaskRow & {
      riskBand: string;
    };
    const lead = (await taskFor('lead-0002', 'disqualify_lead')) as TaskRow & { riskBand: string };
    expect(['low', 'medium']).toContain(lead.riskBand);
    expect(discount.riskBand).toBe('high');

    const page = await signIn('rev-ana');
    for (const t of [lead, discount])
      await page.locator(`tr[data-task-id="${t.taskId}"] input[type="checkbox"]`).check();
    await page.getByRole('button', { name: 'Approve selected (2)' }).click();
    await page
      .locator('#toast')
      .getByText(/1 approved, 1 refused/)
      .waitFor();
    await expect(page.locator('#toast').textContent()).resolves.toContain(discount.taskId);
    await waitFor('the lead disqualified', async () =>
      (await m.crm.get(DEMO_TENANT, 'lead-0002'))?.fields['status'] === 'Disqualified'
        ? true
        : undefined,
    );
    const rows = await tasks();
    expect(rows.find((t) => t.taskId === discount.taskId)?.status).toBe('OPEN');
    expect(rows.find((t) => t.taskId === lead.taskId)).toBeUndefined(); // closed: off the queue
    expect((await m.crm.get(DEMO_TENANT, 'opp-console-batch'))?.appliedActions).toEqual([]);
  });
  it('shows reviewer analytics to a supervisor, not to a reviewer', async () => {
    const supervisor = await signIn('sup-cleo');
    await supervisor.goto(`${origin}/console/#/analytics`);
    const ana = supervisor.locator('[data-testid="analytics"] tr[data-reviewer="rev-ana"]');
    await ana.waitFor();
    // rev-ana decided in the scenarios above: an edit, approvals, a batch.
    expect(Number(await ana.locator('td').first().textContent())).toBeGreaterThanOrEqual(3);
    expect(Number(await ana.locator('td').nth(4).textContent())).toBeGreaterThanOrEqual(1);
    await shot(supervisor, 'analytics');

    const reviewer = await signIn('rev-ben');
    expect(await reviewer.getByRole('link', { name: 'Reviewers' }).count()).toBe(0);
    await reviewer.goto(`${origin}/console/#/analytics`);
    await reviewer
      .getByRole('alert')
      .getByText(/for supervisors, auditors and admins/)
      .waitFor();
  });
  it('a hand-off waits in its queue until a person takes it over and resolves it', async () => {
    // A customer writes "still not working" without saying which of her two open cases she
    // means: service triage will not guess, and hands the email to people.
    const [, sender, caseA, caseB] = DEMO_SCENARIOS.twoOpenCases;
    const from = DEMO_DATASET.find((r) => r.id === sender)!;
    await m.crm.create(
      DEMO_TENANT,
      'activity',
      'act-console-handoff',
      {
        kind: 'inbound_email',
        relatedType: 'contact',
        relatedId: sender,
        subject: 'Still not working',
        body: 'Hi, it is still not working this morning and the team is blocked.',
        fromAddress: String(from.fields['email']),
        occurredAt: new Date().toISOString(),
      },
      'console-handoff',
    );
    const auditor = await signIn('aud-dan');
    await auditor.goto(`${origin}/console/#/handoffs`);
    const card = auditor.locator('li.handoff', { hasText: 'service-triage' }).first();
    await card.waitFor({ timeout: 15_000 });
    await card.locator('a').click();
    await auditor.getByTestId('handoff').getByTestId('read-only').waitFor();

    const page = await signIn('rev-ben');
    await page.goto(`${origin}/console/#/handoffs`);
    await page.locator('li.handoff', { hasText: 'service-triage' }).first().locator('a').click();
    const detail = page.getByTestId('handoff');
    await detail.waitFor();
    await expect(detail.getByTestId('handoff-reason').textContent()).resolves.toMatch(/case/i);
    const candidates = await detail.getByTestId('handoff-candidates').textContent();
    expect(candidates).toContain(caseA);
    expect(candidates).toContain(caseB);
    await page.getByRole('button', { name: 'Take over' }).click();
    await page.getByRole('button', { name: 'Release' }).waitFor();
    await shot(page, 'handoffs');
    await page.locator('#h-note').fill('Called her: it is the login case.');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page
      .getByTestId('handoff-resolution')
      .getByText(/done by rev-ben/)
      .waitFor();
    const resolved = await waitFor('the resolution in the ledger', async () =>
      (await m.ledger.byCorrelation(DEMO_TENANT, 'console-handoff')).find(
        (e) =>
          e.record!.kind === AuditKind.AUDIT_KIND_HANDOFF_TASK && e.record!.actor === 'rev-ben',
      ),
    );
    expect(resolved.record!.summary).not.toContain('Called her'); // the note stays out of the ledger
  });
});
