import {
  ActionPayload,
  CrmAction,
  MERGE_FIELD_TEXT_FIELDS,
  PSEUDONYM_TOKEN_PATTERN,
  actionMergeFields,
  actionPseudonymTokens,
  fillActionMergeFields,
  fillMergeFields,
  mergeField,
  mergeFieldsIn,
  pseudonymTokensIn,
  type MergeFieldRef,
} from './index';

const FIRST = '⟦REF:contact/con-0006/firstName⟧';
const EMAIL = '⟦REF:contact/con-0006/email⟧';

const email = (subject: string, body: string) =>
  CrmAction.fromPartial({
    kind: {
      $case: 'sendEmail',
      value: { toContactId: 'con-0006', subject, body, templateId: 'tpl-1' },
    },
  });

describe('merge fields', () => {
  it('writes a reference in the documented format, with U+27E6 and U+27E7', () => {
    expect(mergeField('contact', 'con-0006', 'firstName')).toBe(FIRST);
    expect(FIRST.codePointAt(0)).toBe(0x27e6);
    expect(FIRST.codePointAt(FIRST.length - 1)).toBe(0x27e7);
    expect(mergeField('support_case', '500Qy00000A.b_c-1', 'Contact_Name2')).toBe(
      '⟦REF:support_case/500Qy00000A.b_c-1/Contact_Name2⟧',
    );
    // Boundaries: 40 / 128 / 64 characters.
    expect(() => mergeField('a'.repeat(40), 'x'.repeat(128), 'f'.repeat(64))).not.toThrow();
  });

  it.each([
    ['Contact', 'con-1', 'name', /object type "Contact"/],
    ['1contact', 'con-1', 'name', /object type/],
    ['a'.repeat(41), 'con-1', 'name', /object type/],
    ['contact', '-con', 'name', /record id "-con"/],
    ['contact', 'con/1', 'name', /record id/],
    ['contact', 'x'.repeat(129), 'name', /record id/],
    ['contact', '', 'name', /record id/],
    ['contact', 'con-1', '_name', /field "_name"/],
    ['contact', 'con-1', 'first-name', /field/],
    ['contact', 'con-1', 'f'.repeat(65), /field/],
  ])('refuses an invalid part: mergeField(%j, %j, %j)', (o, r, f, message) => {
    expect(() => mergeField(o, r, f)).toThrow(message);
    expect(() => mergeField(o, r, f)).toThrow(/^invalid merge field: /);
  });

  it('finds the distinct references of a text in order of first appearance', () => {
    const text = `Hello ${FIRST}, your address ${EMAIL} — ${FIRST} again; case ⟦REF:case/500A/subject⟧`;
    expect(mergeFieldsIn(text)).toEqual([
      { objectType: 'contact', recordId: 'con-0006', field: 'firstName', token: FIRST },
      { objectType: 'contact', recordId: 'con-0006', field: 'email', token: EMAIL },
      { objectType: 'case', recordId: '500A', field: 'subject', token: '⟦REF:case/500A/subject⟧' },
    ]);
    expect(mergeFieldsIn('no references here')).toEqual([]);
  });

  it.each([
    '⟦REF:x⟧',
    '⟦REF:contact/con-1⟧',
    '⟦REF:Contact/con-1/name⟧',
    '⟦REF:contact/con-1/name/extra⟧',
    '⟦REF:contact/-con/name⟧',
    '⟦REF:contact/con-1/_name⟧',
    '⟦ref:contact/con-1/name⟧',
    '[REF:contact/con-1/name]',
    '⟦REF: contact/con-1/name⟧',
    '⟦REF:contact/con-1/name',
    '⟦PERSON_1⟧',
    `⟦REF:contact/${'x'.repeat(129)}/name⟧`,
  ])('does not take a look-alike for a merge field: %s', (text) => {
    expect(mergeFieldsIn(`Hello ${text}!`)).toEqual([]);
    expect(fillMergeFields(`Hello ${text}!`, () => 'FILLED')).toEqual({
      text: `Hello ${text}!`,
      unresolved: [],
    });
  });

  it('fills what resolves, leaves and reports what does not, and never re-scans a value', () => {
    const seen: MergeFieldRef[] = [];
    const r = fillMergeFields(
      `Hi ${FIRST} <${EMAIL}>, ${FIRST}; ⟦REF:contact/con-9/name⟧`,
      (ref) => {
        seen.push(ref);
        if (ref.field === 'firstName') return 'Rosalind ⟦REF:contact/con-9/name⟧';
        if (ref.field === 'email') return '$& $1 $$';
        return undefined;
      },
    );
    expect(r.text).toBe(
      `Hi Rosalind ⟦REF:contact/con-9/name⟧ <$& $1 $$>, Rosalind ⟦REF:contact/con-9/name⟧; ⟦REF:contact/con-9/name⟧`,
    );
    expect(r.unresolved).toEqual([
      {
        objectType: 'contact',
        recordId: 'con-9',
        field: 'name',
        token: '⟦REF:contact/con-9/name⟧',
      },
    ]);
    expect(seen).toHaveLength(4);
  });

  it('an empty string is a value (the caller decides whether an empty field may be sent)', () => {
    expect(fillMergeFields(`a${FIRST}b`, () => '')).toEqual({ text: 'ab', unresolved: [] });
  });

  it('tells pseudonym tokens apart from merge fields', () => {
    const text = `Hello ⟦PERSON_1⟧ (⟦EMAIL_12⟧), ⟦PERSON_1⟧ ${FIRST} ⟦P_1⟧ ⟦PERSON_1234567⟧ ⟦person_1⟧`;
    expect(pseudonymTokensIn(text)).toEqual(['⟦PERSON_1⟧', '⟦EMAIL_12⟧']);
    expect(PSEUDONYM_TOKEN_PATTERN.test(FIRST)).toBe(false);
    expect(PSEUDONYM_TOKEN_PATTERN.test('⟦ORG_3⟧')).toBe(true);
    expect(mergeFieldsIn('⟦PERSON_1⟧')).toEqual([]);
  });

  it('names the outbound text fields that may carry merge fields', () => {
    expect(MERGE_FIELD_TEXT_FIELDS).toEqual({
      sendEmail: ['subject', 'body'],
      replyToCase: ['body'],
    });
  });

  it('fills exactly the fields MERGE_FIELD_TEXT_FIELDS names, for every case it names', () => {
    for (const [c, fields] of Object.entries(MERGE_FIELD_TEXT_FIELDS)) {
      const action = CrmAction.fromPartial({
        kind: { $case: c, value: Object.fromEntries(fields.map((f) => [f, `x ${FIRST}`])) },
      } as never);
      expect(actionMergeFields(action).map((r) => r.token)).toEqual([FIRST]);
      const filled = fillActionMergeFields(action, () => 'V').action.kind as unknown as {
        $case: string;
        value: Record<string, unknown>;
      };
      expect(filled.$case).toBe(c);
      for (const f of fields) expect(filled.value[f]).toBe('x V');
    }
  });

  it('finds and fills the references of an action only in its outbound text fields', () => {
    const action = email(`For ${FIRST}`, `Hello ${FIRST},\nwe write to ${EMAIL}. ⟦PERSON_2⟧`);
    const before = ActionPayload.encode({ action } as ActionPayload).finish();
    expect(actionMergeFields(action).map((r) => r.token)).toEqual([FIRST, EMAIL]);
    expect(actionPseudonymTokens(action)).toEqual(['⟦PERSON_2⟧']);
    const values: Record<string, string> = { firstName: 'Rosalind' };
    const filled = fillActionMergeFields(action, (r) => values[r.field]);
    expect(filled.action.kind).toEqual({
      $case: 'sendEmail',
      value: {
        toContactId: 'con-0006',
        subject: 'For Rosalind',
        body: `Hello Rosalind,\nwe write to ${EMAIL}. ⟦PERSON_2⟧`,
        templateId: 'tpl-1',
      },
    });
    expect(filled.unresolved.map((r) => r.token)).toEqual([EMAIL]);
    // The original action is untouched (it is what the decision token is bound to).
    expect(ActionPayload.encode({ action } as ActionPayload).finish()).toEqual(before);
    expect(action.kind?.$case === 'sendEmail' && action.kind.value.subject).toBe(`For ${FIRST}`);

    const reply = CrmAction.fromPartial({
      kind: { $case: 'replyToCase', value: { body: `Dear ${FIRST}`, public: true } },
    });
    expect(actionMergeFields(reply).map((r) => r.token)).toEqual([FIRST]);
    expect(fillActionMergeFields(reply, () => 'Ada').action.kind).toEqual({
      $case: 'replyToCase',
      value: { body: 'Dear Ada', public: true },
    });

    // Other cases and fields are not outbound texts: nothing is found or filled there.
    const task = CrmAction.fromPartial({
      kind: {
        $case: 'createTask',
        value: { subject: `Call ${FIRST}`, ownerId: 'u-1', notes: FIRST },
      },
    });
    expect(actionMergeFields(task)).toEqual([]);
    expect(actionPseudonymTokens(task)).toEqual([]);
    expect(fillActionMergeFields(task, () => 'X').action).toBe(task);
    const withTemplateRef = email('s', 'b');
    if (withTemplateRef.kind?.$case === 'sendEmail') withTemplateRef.kind.value.templateId = FIRST;
    expect(actionMergeFields(withTemplateRef)).toEqual([]);
    expect(actionMergeFields(undefined)).toEqual([]);
    expect(actionMergeFields(CrmAction.fromPartial({}))).toEqual([]);
  });
});
