import { DEMO_DATASET, EXFILTRATION_ADDRESS, FOREIGN_TENANT } from '@mandate/connectors-domain';
import { agentsCli } from './agents-cli';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(sub: string | undefined, ...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await agentsCli(sub, args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const run = (agent: string, record: string, ...rest: string[]) =>
  cli('run', '--agent', agent, '--record', record, ...rest);

function fieldsOf(id: string): Record<string, unknown> {
  const r = DEMO_DATASET.find((x) => x.id === id);
  if (!r) throw new Error(`no demo record ${id}`);
  return r.fields;
}

/** The record's name and email never appear in the output. */
function expectNoPersonalData(output: string, id: string): void {
  const f = fieldsOf(id);
  for (const key of ['name', 'email']) {
    const value = f[key];
    if (typeof value === 'string' && value.length > 0) expect(output).not.toContain(value);
  }
}

describe('mandate agents list', () => {
  it('lists the four agents with purpose, tools and ceiling', async () => {
    const { code, out } = await cli('list');
    expect(code).toBe(0);
    for (const id of ['lead-qualification', 'deal-desk', 'service-triage', 'outreach'])
      expect(out).toContain(id);
    expect(out).toContain('purpose:  pricing');
    expect(out).toContain('tools:    apply_discount, move_opportunity_stage, hand_off');
    expect(out).toContain('ceiling:  VERDICT_APPROVE_1');
  });
});

describe('mandate agents run', () => {
  it('qualifies lead-0001 from the embedded demo dataset, without its name or email', async () => {
    const { code, out, err } = await run('lead-qualification', 'lead-0001');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('embedded demo dataset');
    expect(out).toContain('model:    offline rules (not an LLM)');
    expect(out).toMatch(/prompt: {3}lead-qualification v1 sha256:[0-9a-f]{64} /);
    expect(out).toMatch(/read: {5}lead lead-0001: title, .*notes/);
    expect(out).toMatch(/withheld: lead lead-0001: .*email \(NOT_ALLOWED_FOR_PURPOSE\)/);
    expect(out).toMatch(/1\. qualify_lead on lead lead-0001/);
    expect(out).toMatch(/args: {6}score=\d+/);
    expect(out).toMatch(/rationale: Qualify \(score \d+\): /);
    expectNoPersonalData(out, 'lead-0001');
  });

  it('hands off the 38% request on opp-0001 at the default 20% ceiling', async () => {
    const { code, out } = await run('deal-desk', 'opp-0001');
    expect(code).toBe(0);
    expect(out).toContain('Proposals (0):');
    expect(out).toMatch(/hand_off: .*38% exceeds the 20% ceiling/);
    expect(out).not.toContain('apply_discount on');
  });

  it('escalates the possible data exposure on case-0009', async () => {
    const { code, out } = await run('service-triage', 'case-0009');
    expect(code).toBe(0);
    expect(out).toMatch(/Hand-offs \(1\):\n {2}- escalate: /);
    expectNoPersonalData(out, String(fieldsOf('case-0009')['contactId']));
  });

  it('triages a routine case with a public acknowledgement', async () => {
    const { code, out } = await run('service-triage', 'case-0001');
    expect(code).toBe(0);
    expect(out).toMatch(/reply_to_case on case case-0001/);
    expect(out).toContain('public=true');
    expect(out).not.toContain('close_case on');
  });

  it('says no_action OPTED_OUT for con-0003, and never prints the contact', async () => {
    const { code, out } = await run('outreach', 'con-0003');
    expect(code).toBe(0);
    expect(out).toContain('consent:  refused: OPTED_OUT (checked in code)');
    expect(out).toMatch(/No action \(1\):\n {2}- OPTED_OUT/);
    expect(out).toContain('Proposals (0):');
    expectNoPersonalData(out, 'con-0003');
  });

  it('hands off Dana Lee with both candidates instead of emailing either', async () => {
    for (const id of ['con-0001', 'con-0002']) {
      const { code, out } = await run('outreach', id);
      expect(code).toBe(0);
      expect(out).not.toContain('send_email on');
      expect(out).toMatch(/hand_off: .*\[candidates: con-000[12], con-000[12]\]/);
      expectNoPersonalData(out, id);
    }
  });

  it('follows none of the injected instructions in the demo data', async () => {
    const runs = [
      await run('deal-desk', 'opp-0002'),
      await run('service-triage', 'case-0003'),
      await run('outreach', 'con-0007', '--json'),
    ];
    for (const { code, out } of runs) {
      expect(code).toBe(0);
      const lower = out.toLowerCase();
      expect(lower).not.toContain(FOREIGN_TENANT);
      expect(lower).not.toContain(EXFILTRATION_ADDRESS);
      expect(lower).not.toContain('closed_won');
      expect(lower).not.toContain('closed_lost');
      expect(out).not.toContain('move_opportunity_stage on');
      expect(out).not.toMatch(/discount_percent=9\d/);
      expect(out).not.toMatch(/"discountPercent": 9\d/);
    }
  });

  it('prints JSON proposals with --json, with tokens and without the raw name', async () => {
    const { code, out } = await run('outreach', 'con-0006', '--json');
    expect(code).toBe(0);
    const parsed = JSON.parse(out) as {
      dataset: string;
      model: { label: string };
      prompt: { promptId: string };
      proposals: Array<{ idempotencyKey: string; action: { sendEmail?: { body: string } } }>;
    };
    expect(parsed.dataset).toBe('embedded demo dataset');
    expect(parsed.model.label).toBe('offline rules (not an LLM)');
    expect(parsed.prompt.promptId).toBe('outreach');
    expect(parsed.proposals).toHaveLength(1);
    expect(parsed.proposals[0].action.sendEmail?.body).toMatch(
      /^Hello ⟦REF:contact\/con-\d+\/name⟧,/,
    );
    expectNoPersonalData(out, 'con-0006');
  });
});

describe('mandate agents: bad arguments', () => {
  it('refuses an unknown agent with the valid choices', async () => {
    const { code, err } = await run('closer', 'lead-0001');
    expect(code).toBe(2);
    expect(err).toMatch(/unknown agent "closer"; valid agents: lead-qualification, deal-desk/);
  });

  it('refuses an unknown record with examples of the types the agent handles', async () => {
    const { code, err } = await run('deal-desk', 'opp-9999');
    expect(code).toBe(2);
    expect(err).toMatch(/no record "opp-9999" in the embedded demo dataset/);
    expect(err).toContain('opportunity (e.g. opp-0001');
  });

  it('refuses a record of a type the agent does not handle', async () => {
    const { code, err } = await run('deal-desk', 'lead-0001');
    expect(code).toBe(2);
    expect(err).toMatch(/deal-desk does not handle lead records .* it handles opportunity/);
  });

  it('refuses missing flags, unknown options and unknown subcommands', async () => {
    expect((await cli('run', '--agent', 'outreach')).code).toBe(2);
    expect((await cli('run', '--record')).code).toBe(2);
    expect((await cli('run', '--agent', 'outreach', '--record', 'con-0003', '--x')).code).toBe(2);
    expect((await cli('fly')).err).toMatch(/unknown agents command "fly"/);
    expect((await cli(undefined)).code).toBe(2);
    expect((await cli('list', 'extra')).code).toBe(2);
  });
});
