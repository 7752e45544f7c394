import { parsePromptFile } from './prompt-file.parser';
import { PromptValidationError } from './prompt.errors';

const FILE = `---
id: lead-qualification
description: "Qualifies leads"
variables: [record, now]
version: 2 (adds quiet hours)
---

## system

You qualify leads.

### Rules

Keep ⟦PERSON_1⟧ as is.

## user

Now: {{now}}
{{record}}
`;

function problemsOf(text: string): string[] {
  try {
    parsePromptFile(text);
  } catch (err) {
    if (err instanceof PromptValidationError) return [...err.problems];
    throw err;
  }
  throw new Error('expected the file to be refused');
}

describe('parsePromptFile', () => {
  it('reads the front matter and the two sections', () => {
    const parsed = parsePromptFile(FILE);
    expect(parsed).toEqual({
      promptId: 'lead-qualification',
      content: {
        template: {
          system: 'You qualify leads.\n\n### Rules\n\nKeep ⟦PERSON_1⟧ as is.',
          user: 'Now: {{now}}\n{{record}}',
        },
        variables: ['now', 'record'],
        description: 'Qualifies leads',
        versionNote: '2 (adds quiet hours)',
      },
    });
  });

  it('reads a Windows checkout to the same content', () => {
    expect(parsePromptFile(FILE.replace(/\n/g, '\r\n'))).toEqual(parsePromptFile(FILE));
  });

  it('refuses unknown keys and sections, stray text and missing parts, all at once', () => {
    const problems = problemsOf(`---
id: Lead
colour: blue
variables: record
---
stray text
## system
x
## notes
y
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/unknown front matter key "colour"/),
        expect.stringMatching(/id must match/),
        expect.stringMatching(/variables must be a list/),
        expect.stringMatching(/text outside the "## system" \/ "## user" sections/),
        expect.stringMatching(/unknown section "## notes"/),
        expect.stringMatching(/section "## user" is missing/),
      ]),
    );
    expect(problems.filter((p) => p.includes('outside'))).toHaveLength(1);
  });

  it('refuses a file whose variables do not match its placeholders', () => {
    expect(() => parsePromptFile(FILE.replace('[record, now]', '[record]'))).toThrow(
      /placeholder \{\{now\}\} is not a declared variable/,
    );
  });

  it('refuses a file without front matter', () => {
    expect(() => parsePromptFile('## system\nx\n## user\ny\n')).toThrow(/front matter/);
  });
});
