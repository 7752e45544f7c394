// Test fixtures only (the demo CRM's ambiguity scenarios); production code passes candidates in.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { DEMO_DATASET, DEMO_SCENARIOS } from '@mandate/connectors-domain';
import { resolveCaseReference, resolveMention, type CandidateRecord } from './entity-resolution';

const byId = (id: string): CandidateRecord => {
  const record = DEMO_DATASET.find((r) => r.id === id);
  if (!record) throw new Error(`demo record ${id} missing`);
  return record;
};

const contacts: CandidateRecord[] = DEMO_DATASET.filter((r) => r.objectType === 'contact');
const leads: CandidateRecord[] = DEMO_DATASET.filter((r) => r.objectType === 'lead');
const people = [...contacts, ...leads];

const [MERIDIAN, DANA_FINANCE, DANA_ENGINEER] = DEMO_SCENARIOS.duplicateNameContacts;
const [BRIGHTLINE, TAMSIN, CASE_EXPORTS, CASE_FILTERS, STILL_NOT_WORKING] =
  DEMO_SCENARIOS.twoOpenCases;

const idsOf = (r: ReturnType<typeof resolveMention>) =>
  r.kind === 'ambiguous' ? r.candidates.map((c) => c.id).sort() : [];

describe('resolveMention: two contacts called Dana Lee at one account', () => {
  it('the scenario is what the tests assume', () => {
    expect(byId(DANA_FINANCE).fields['name']).toBe('Dana Lee');
    expect(byId(DANA_ENGINEER).fields['name']).toBe('Dana Lee');
    expect(byId(DANA_FINANCE).fields['accountId']).toBe(MERIDIAN);
    expect(byId(DANA_ENGINEER).fields['accountId']).toBe(MERIDIAN);
  });

  it('"email Dana Lee" is ambiguous, with both candidates and what tells them apart', () => {
    const result = resolveMention({ name: 'Dana Lee' }, people);
    expect(result.kind).toBe('ambiguous');
    expect(idsOf(result)).toEqual([DANA_FINANCE, DANA_ENGINEER].sort());
    if (result.kind !== 'ambiguous') throw new Error('unreachable');
    const why = Object.fromEntries(result.candidates.map((c) => [c.id, c.why]));
    expect(why[DANA_FINANCE]).toContain('title "Head of Finance Systems"');
    expect(why[DANA_ENGINEER]).toContain('title "Data Engineer"');
    // No personal values in the reasons (they may be shown to a model or kept in the audit trail).
    for (const c of result.candidates) {
      expect(c.why).not.toContain('@');
      expect(c.why).not.toContain(String(byId(c.id).fields['phone']));
    }
  });

  it('the account alone does not disambiguate them', () => {
    const result = resolveMention({ name: 'dana  LEE', accountId: MERIDIAN }, people);
    expect(idsOf(result)).toEqual([DANA_FINANCE, DANA_ENGINEER].sort());
  });

  it('an exact email resolves to one of them', () => {
    for (const id of [DANA_FINANCE, DANA_ENGINEER]) {
      const email = String(byId(id).fields['email']);
      const result = resolveMention({ name: 'Dana Lee', email: email.toUpperCase() }, people);
      expect(result).toEqual({
        kind: 'resolved',
        id,
        objectType: 'contact',
        evidence: ['email matches the email on record'],
      });
    }
  });

  it('the data disambiguates when the input says more: title or a distinguishing hint', () => {
    expect(
      resolveMention({ name: 'Dana Lee', accountId: MERIDIAN, title: 'Data Engineer' }, people),
    ).toEqual({
      kind: 'resolved',
      id: DANA_ENGINEER,
      objectType: 'contact',
      evidence: ['full name matches', 'account matches', 'title matches'],
    });
    const byHint = resolveMention({ name: 'Dana Lee', hints: ['the', 'finance'] }, people);
    expect(byHint.kind === 'resolved' && byHint.id).toBe(DANA_FINANCE);
  });

  it('hints that fit both (or neither) leave it ambiguous', () => {
    const result = resolveMention(
      { name: 'Dana Lee', hints: ['Meridian', 'logistics', 'quantum'] },
      people,
    );
    expect(idsOf(result)).toEqual([DANA_FINANCE, DANA_ENGINEER].sort());
  });

  it('never resolves against contradicting input', () => {
    // A title neither has: both stay candidates.
    expect(idsOf(resolveMention({ name: 'Dana Lee', title: 'CFO' }, people))).toEqual(
      [DANA_FINANCE, DANA_ENGINEER].sort(),
    );
    // An email nobody has: the name alone is not enough, even narrowed to one by title.
    const unknownEmail = resolveMention(
      { name: 'Dana Lee', email: 'dana@elsewhere.example', title: 'Data Engineer' },
      people,
    );
    expect(unknownEmail.kind).toBe('ambiguous');
    expect(idsOf(unknownEmail)).toEqual([DANA_ENGINEER]);
    // The email of one Dana, with the title of the other.
    const mixed = resolveMention(
      {
        name: 'Dana Lee',
        email: String(byId(DANA_FINANCE).fields['email']),
        title: 'Data Engineer',
      },
      people,
    );
    expect(mixed.kind).toBe('ambiguous');
    expect(idsOf(mixed)).toEqual([DANA_FINANCE]);
    // The email of a Dana, but another account.
    const elsewhere = resolveMention(
      { email: String(byId(DANA_ENGINEER).fields['email']), accountId: BRIGHTLINE },
      people,
    );
    expect(elsewhere.kind).toBe('ambiguous');
  });

  it('a first name alone is never enough', () => {
    const result = resolveMention({ name: 'Dana', accountId: MERIDIAN }, people);
    expect(result.kind).toBe('ambiguous');
    expect(idsOf(result)).toEqual([DANA_FINANCE, DANA_ENGINEER].sort());
    const single = resolveMention({ name: 'Tamsin', accountId: BRIGHTLINE }, people);
    expect(single.kind).toBe('ambiguous');
    expect(idsOf(single)).toEqual([TAMSIN]);
  });

  it('resolves an unambiguous full name, and says none when nothing fits', () => {
    expect(resolveMention({ name: 'Tamsin Hargreave', accountId: BRIGHTLINE }, people)).toEqual({
      kind: 'resolved',
      id: TAMSIN,
      objectType: 'contact',
      evidence: ['full name matches', 'account matches'],
    });
    expect(resolveMention({ name: 'Dana Lee', accountId: BRIGHTLINE }, people)).toEqual({
      kind: 'none',
    });
    expect(resolveMention({ name: 'Nobody Known' }, people)).toEqual({ kind: 'none' });
    expect(resolveMention({ title: 'Data Engineer' }, people)).toEqual({ kind: 'none' });
    expect(resolveMention({ name: 'Dana Lee' }, [])).toEqual({ kind: 'none' });
  });

  it('two records with the same email (a lead and a contact) are ambiguous', () => {
    const dana = byId(DANA_FINANCE);
    const asLead: CandidateRecord = {
      objectType: 'lead',
      id: 'lead-9999',
      fields: { name: 'Dana Lee', email: dana.fields['email'] },
    };
    const result = resolveMention({ email: String(dana.fields['email']) }, [...people, asLead]);
    expect(idsOf(result)).toEqual([DANA_FINANCE, 'lead-9999'].sort());
  });
});

describe('resolveCaseReference: two open cases an email could mean', () => {
  const tamsinsCases = DEMO_DATASET.filter(
    (r) => r.objectType === 'case' && r.fields['contactId'] === TAMSIN,
  );
  const email = byId(STILL_NOT_WORKING);
  const body = String(email.fields['body']);

  it('the scenario is what the tests assume', () => {
    expect(tamsinsCases.map((c) => [c.id, c.fields['status']])).toEqual([
      [CASE_EXPORTS, 'Open'],
      [CASE_FILTERS, 'Open'],
    ]);
    expect(body).toContain('still not working');
  });

  it('"it is still not working" with two open cases is ambiguous, with both', () => {
    const result = resolveCaseReference(body, tamsinsCases);
    expect(result.kind).toBe('ambiguous');
    expect(idsOf(result)).toEqual([CASE_EXPORTS, CASE_FILTERS].sort());
  });

  it('the same email with one open case resolves to it', () => {
    const [exports] = tamsinsCases;
    expect(resolveCaseReference(body, [exports])).toEqual({
      kind: 'resolved',
      id: CASE_EXPORTS,
      objectType: 'case',
      evidence: ['the text refers back to an open case and the sender has only this one'],
    });
    // Closed cases do not count.
    const closed = { ...tamsinsCases[1], fields: { ...tamsinsCases[1].fields, status: 'Closed' } };
    expect(resolveCaseReference(body, [exports, closed]).kind).toBe('resolved');
  });

  it('subject words pick the one case the text is about', () => {
    const result = resolveCaseReference(
      'The nightly export failed again, the finance report is late.',
      tamsinsCases,
    );
    expect(result.kind === 'resolved' && result.id).toBe(CASE_EXPORTS);
    const filters = resolveCaseReference(
      'My dashboard filter was reset when logging in.',
      tamsinsCases,
    );
    expect(filters.kind === 'resolved' && filters.id).toBe(CASE_FILTERS);
  });

  it('one shared word is too weak to pick between cases, but hands off with the fit', () => {
    const result = resolveCaseReference('The export is broken.', tamsinsCases);
    expect(result.kind).toBe('ambiguous');
    expect(idsOf(result)).toEqual([CASE_EXPORTS]);
    // With a single open case, that word is enough.
    expect(resolveCaseReference('The export is broken.', [tamsinsCases[0]]).kind).toBe('resolved');
  });

  it('text touching both subjects stays ambiguous', () => {
    const result = resolveCaseReference(
      'Neither the exports nor the dashboard filters work.',
      tamsinsCases,
    );
    expect(idsOf(result)).toEqual([CASE_EXPORTS, CASE_FILTERS].sort());
  });

  it('a case id in the text resolves; two ids are ambiguous', () => {
    expect(
      resolveCaseReference(`Any news on ${CASE_FILTERS.toUpperCase()}?`, tamsinsCases),
    ).toMatchObject({ kind: 'resolved', id: CASE_FILTERS });
    expect(
      idsOf(resolveCaseReference(`About ${CASE_EXPORTS} and ${CASE_FILTERS}`, tamsinsCases)),
    ).toEqual([CASE_EXPORTS, CASE_FILTERS].sort());
    // An id that is not one of the sender's open cases is not followed.
    expect(resolveCaseReference('Please close case-0003 now', tamsinsCases)).toEqual({
      kind: 'none',
    });
  });

  it('text that refers to no case at all: none', () => {
    expect(resolveCaseReference('We would like a quote for 20 more seats.', tamsinsCases)).toEqual({
      kind: 'none',
    });
    expect(resolveCaseReference(body, [])).toEqual({ kind: 'none' });
  });
});
