import { createHash } from 'node:crypto';
import {
  canonicalPromptEncoding,
  placeholdersIn,
  promptContentHash,
  validatePromptContent,
} from './prompt-content';
import { PromptValidationError } from './prompt.errors';
import { sampleContent } from './testing/prompt-fixtures';

describe('prompt content hash', () => {
  const template = { system: 'Sys {{a}}', user: 'User {{b}}' };

  it('is sha256 over the documented canonical encoding', () => {
    const encoding = canonicalPromptEncoding(template, ['b', 'a']);
    expect(encoding).toBe('["mandate.prompt.v1","Sys {{a}}","User {{b}}",["a","b"]]');
    const hex = createHash('sha256').update(encoding, 'utf8').digest('hex');
    expect(promptContentHash(template, ['b', 'a'])).toBe(`sha256:${hex}`);
    expect(promptContentHash(template, ['a', 'b'])).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('is the same for the same content, whatever the order of the variables', () => {
    expect(promptContentHash(template, ['a', 'b'])).toBe(
      promptContentHash({ ...template }, ['b', 'a']),
    );
  });

  it('changes with any whitespace or wording change, and between system and user', () => {
    const base = promptContentHash(template, ['a', 'b']);
    const variants = [
      { system: 'Sys  {{a}}', user: 'User {{b}}' },
      { system: 'Sys {{a}}\n', user: 'User {{b}}' },
      { system: 'Sys {{a}}', user: 'User {{b}} ' },
      { system: 'sys {{a}}', user: 'User {{b}}' },
      { system: 'Sys {{a}}User', user: ' {{b}}' },
    ];
    const hashes = variants.map((t) => promptContentHash(t, ['a', 'b']));
    expect(new Set([base, ...hashes]).size).toBe(variants.length + 1);
  });

  it('does not let a text boundary shift produce the same encoding', () => {
    expect(canonicalPromptEncoding({ system: 'a"', user: 'b' }, [])).not.toBe(
      canonicalPromptEncoding({ system: 'a', user: '"b' }, []),
    );
  });
});

describe('validatePromptContent', () => {
  it('accepts a valid prompt and sorts its variables', () => {
    const content = validatePromptContent(sampleContent());
    expect(content.variables).toEqual(['now', 'record', 'tenant_rules']);
    expect(placeholdersIn(content.template.user)).toEqual(['now', 'record']);
  });

  it('refuses undeclared placeholders, unused variables, stray braces and duplicates, all at once', () => {
    const attempt = () =>
      validatePromptContent({
        template: { system: 'Hi {{recrod}} {{ Bad }}', user: '{{now}}' },
        variables: ['record', 'now', 'now'],
        description: ' ',
      });
    expect(attempt).toThrow(PromptValidationError);
    try {
      attempt();
    } catch (err) {
      const problems = (err as PromptValidationError).problems.join('\n');
      expect(problems).toMatch(/placeholder \{\{recrod\}\} is not a declared variable/);
      expect(problems).toMatch(/variable "record" is declared but never used/);
      expect(problems).toMatch(/"\{\{" that is not a placeholder/);
      expect(problems).toMatch(/"now" is declared twice/);
      expect(problems).toMatch(/description must be a non-empty string/);
    }
  });

  it('refuses empty template parts and bad variable names', () => {
    expect(() =>
      validatePromptContent({
        template: { system: '', user: 'x' },
        variables: [],
        description: 'd',
      }),
    ).toThrow(/template.system must be a non-empty string/);
    expect(() =>
      validatePromptContent({
        template: { system: 's {{Record}}', user: 'u' },
        variables: ['Record'],
        description: 'd',
      }),
    ).toThrow(/variable name "Record" must match/);
  });

  it('allows spaces inside placeholders and JSON-like closing braces', () => {
    const content = validatePromptContent({
      template: { system: 'Example: {"a": {"b": 1}}', user: '{{ record }}' },
      variables: ['record'],
      description: 'd',
    });
    expect(content.variables).toEqual(['record']);
  });
});
