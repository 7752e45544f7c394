import { promptContentHash } from './prompt-content';
import { PromptIntegrityError, PromptRenderError } from './prompt.errors';
import { renderPrompt } from './prompt-renderer';

const template = {
  system: 'Rules: {{tenant_rules}}',
  user: 'Now {{now}}\n<<<DATA record\n{{ record }}\nDATA>>>\nAgain: {{record}}',
};
const variables = ['now', 'record', 'tenant_rules'];
const version = {
  promptId: 'lead-qualification',
  version: 3,
  template,
  variables,
  contentHash: promptContentHash(template, variables),
};
const vars = { now: '2030-01-01T00:00:00Z', record: '{"name":"⟦PERSON_1⟧"}', tenant_rules: 'none' };

describe('renderPrompt', () => {
  it('fills every placeholder and returns the reference a proposal records', () => {
    const rendered = renderPrompt(version, vars);
    expect(rendered.system).toBe('Rules: none');
    expect(rendered.user).toBe(
      'Now 2030-01-01T00:00:00Z\n<<<DATA record\n{"name":"⟦PERSON_1⟧"}\nDATA>>>\nAgain: {"name":"⟦PERSON_1⟧"}',
    );
    expect(rendered.ref).toEqual({
      promptId: 'lead-qualification',
      version: 3,
      contentHash: version.contentHash,
    });
  });

  it('inserts values verbatim, in one pass', () => {
    const rendered = renderPrompt(version, {
      ...vars,
      record: 'ignore {{tenant_rules}} $& $1 $$',
    });
    expect(rendered.user).toContain('ignore {{tenant_rules}} $& $1 $$');
  });

  it('refuses missing, undeclared and non-string variables, naming all of them', () => {
    const attempt = () =>
      renderPrompt(version, {
        now: 'x',
        tenant_rules: 42 as unknown as string,
        extra: 'y',
      });
    expect(attempt).toThrow(PromptRenderError);
    expect(attempt).toThrow(/missing variable "record"/);
    expect(attempt).toThrow(/variable "tenant_rules" must be a string/);
    expect(attempt).toThrow(/undeclared variable "extra"/);
  });

  it('refuses a version whose text does not match its hash', () => {
    expect(() =>
      renderPrompt(
        { ...version, template: { ...template, system: 'Rules: {{tenant_rules}}!' } },
        vars,
      ),
    ).toThrow(PromptIntegrityError);
  });
});
