import {
  ActionProposal,
  AuditEntry,
  AuditKind,
  AuditRecord,
  ChangeType,
  CrmChangeEvent,
  PlanHandOff,
  PolicyDecision,
  Verdict,
  codecForTypeName,
  codecOf,
  codecs,
  packPayload,
  unpackPayload,
} from './index';

// With env=node, decoded `bytes` fields are Buffers (a Uint8Array subclass), so messages with bytes
// are compared through their proto3 JSON form, which covers every field.
function expectSameMessage<T>(fns: { toJSON(m: T): unknown }, actual: T, expected: T): void {
  expect(fns.toJSON(actual)).toEqual(fns.toJSON(expected));
}

const proposal = ActionProposal.fromPartial({
  proposalId: 'prop-1',
  tenantId: 'tenant-a',
  correlationId: 'corr-1',
  idempotencyKey: 'plan-1:0',
  target: { objectType: 'lead', recordId: 'lead-9' },
  action: { kind: { $case: 'qualifyLead', value: { score: 90, reason: 'fit' } } },
  confidence: 0.9,
  createdAt: '2025-02-01T12:00:00.000Z',
});

function auditRecordOf(payload: { payloadType: string; payload: Buffer }): AuditRecord {
  return AuditRecord.fromPartial({
    recordId: 'proposal:prop-1',
    tenantId: 'tenant-a',
    correlationId: 'corr-1',
    kind: AuditKind.AUDIT_KIND_PROPOSAL,
    actor: 'orchestrator',
    subject: { objectType: 'lead', recordId: 'lead-9' },
    occurredAt: '2025-02-01T12:00:00.000Z',
    summary: 'agent proposed qualify_lead',
    attributes: { agent_id: 'agent-sales', action_type: 'qualify_lead' },
    ...payload,
  });
}

describe('AuditRecord payload', () => {
  it('carries the exact protobuf bytes of the subject message through encode/decode', () => {
    const packed = packPayload(codecs.ActionProposal, proposal);
    const record = auditRecordOf(packed);

    const decoded = AuditRecord.decode(AuditRecord.encode(record).finish());

    expect(decoded.payloadType).toBe('mandate.v1.ActionProposal');
    expect(Buffer.from(decoded.payload)).toEqual(Buffer.from(packed.payload));
    expect(unpackPayload(codecs.ActionProposal, decoded)).toEqual(proposal);
    expectSameMessage(AuditRecord, decoded, record);
  });

  it('survives the ledger envelope (AuditEntry) and its JSON form (base64 payload)', () => {
    const entry = AuditEntry.fromPartial({
      record: auditRecordOf(packPayload(codecs.ActionProposal, proposal)),
      leafIndex: '18446744073709551615', // max uint64 stays exact
      leafHash: Buffer.alloc(32, 7),
      appendedAt: '2025-02-01T12:00:01.000Z',
    });

    const viaBinary = codecs.AuditEntry.decode(codecs.AuditEntry.encode(entry));
    const viaJson = AuditEntry.fromJSON(JSON.parse(JSON.stringify(AuditEntry.toJSON(entry))));

    expectSameMessage(AuditEntry, viaBinary, entry);
    expectSameMessage(AuditEntry, viaJson, entry);
    expect(Buffer.from(viaJson.record!.payload)).toEqual(Buffer.from(entry.record!.payload));
    expect(viaBinary.checkpoint).toBeUndefined();
    expect(unpackPayload(codecs.ActionProposal, viaJson.record!)).toEqual(proposal);
  });

  it('refuses to decode a payload as another type than payload_type names', () => {
    const record = auditRecordOf(packPayload(codecs.ActionProposal, proposal));

    expect(() => unpackPayload(codecs.PolicyDecision, record)).toThrow(
      'audit payload is mandate.v1.ActionProposal, expected mandate.v1.PolicyDecision',
    );
  });
});

describe('codecs', () => {
  it('name each codec with the full protobuf type name of its message', () => {
    for (const [name, codec] of Object.entries(codecs)) {
      expect(codec.typeName).toBe(`mandate.v1.${name}`);
      expect(codecForTypeName(codec.typeName)).toBe(codec);
    }
    expect(codecForTypeName('mandate.v1.Nope')).toBeUndefined();
  });

  it('round-trip a decision with its token signature bytes and explanation', () => {
    const decision = PolicyDecision.fromPartial({
      decisionId: 'dec-1',
      tenantId: 'tenant-a',
      proposal,
      verdict: Verdict.VERDICT_APPROVE_2,
      explanation: {
        riskScore: 0.61,
        riskContributions: [
          { factor: 'monetary_impact', value: 0.9, weight: 0.4, contribution: 0.36 },
        ],
        autonomyCeiling: Verdict.VERDICT_AUTO_WITH_NOTICE,
      },
      token: {
        tokenId: 'tok-1',
        payloadHash: 'ab'.repeat(32),
        verdict: Verdict.VERDICT_APPROVE_2,
        approvals: [{ reviewerId: 'rev-1', decidedAt: '2025-02-01T12:05:00.000Z' }],
        signature: Buffer.from([1, 2, 3, 255]),
      },
    });

    const decoded = codecs.PolicyDecision.decode(codecs.PolicyDecision.encode(decision));

    expectSameMessage(PolicyDecision, decoded, decision);
    expect(Buffer.from(decoded.token!.signature)).toEqual(Buffer.from([1, 2, 3, 255]));
  });

  it('round-trip a CRM change snapshot (google.protobuf.Struct) as a plain object', () => {
    const event = CrmChangeEvent.fromPartial({
      eventId: 'ev-1',
      tenantId: 'tenant-a',
      sourceSystem: 'embedded',
      objectType: 'lead',
      recordId: 'lead-9',
      changeType: ChangeType.CHANGE_TYPE_UPDATED,
      changedFields: ['status', 'tags'],
      snapshot: {
        status: 'working',
        score: 42,
        tags: ['a', 'b'],
        owner: null,
        address: { city: 'Lyon' },
        vip: false,
      },
      cursor: '000123',
    });

    expect(codecs.CrmChangeEvent.decode(codecs.CrmChangeEvent.encode(event))).toEqual(event);
  });

  it('round-trip a plan hand-off with its candidates and steps, in binary and JSON', () => {
    const handOff = PlanHandOff.fromPartial({
      handoffId: 'ho-1',
      tenantId: 'tenant-a',
      correlationId: 'corr-1',
      planId: 'plan-1',
      agentId: 'service-triage',
      target: { objectType: 'activity', recordId: 'act-9' },
      reason: 'hand_off: the message could refer to 2 open cases',
      candidates: ['case-1', 'case-2'],
      steps: [
        {
          index: 0,
          actionType: 'apply_discount',
          status: 'denied',
          reasons: ['DISCOUNT_OVER_CEILING'],
          proposalId: 'p-1',
        },
      ],
      handedOffAt: '2025-02-01T12:00:00.000Z',
      objective: 'triage an inbound email',
    });

    expect(codecs.PlanHandOff.decode(codecs.PlanHandOff.encode(handOff))).toEqual(handOff);
    const json = JSON.parse(JSON.stringify(PlanHandOff.toJSON(handOff)));
    expect(json).toMatchObject({ handoffId: 'ho-1', candidates: ['case-1', 'case-2'] });
    expect(PlanHandOff.fromJSON(json)).toEqual(handOff);
  });

  it('throw on bytes that are not a valid encoding', () => {
    const codec = codecOf(ActionProposal, 'mandate.v1.ActionProposal');
    const truncated = codec.encode(proposal).slice(0, 5);

    expect(() => codec.decode(truncated)).toThrow();
  });
});
