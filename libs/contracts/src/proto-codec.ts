// Binary codecs for the messages that travel as Kafka payloads and as AuditRecord payloads.
// A codec pairs a message's generated encode/decode with its full protobuf type name, which is
// what AuditRecord.payload_type and the CloudEvents `ce_type`/`dataschema` carry.
import { ActionPayload, ActionProposal } from './gen/mandate/v1/action';
import { AuditEntry, AuditRecord, Checkpoint } from './gen/mandate/v1/audit';
import { CrmChangeEvent } from './gen/mandate/v1/crm';
import { ExecutionOutcome } from './gen/mandate/v1/execution';
import { PlanHandOff } from './gen/mandate/v1/handoff';
import {
  DecisionToken,
  PolicyControlEvent,
  PolicyDecision,
  TrustEvidence,
} from './gen/mandate/v1/policy';
import { ReviewDecision, ReviewTask } from './gen/mandate/v1/review';

/** Encodes and decodes one protobuf message type. */
export interface ProtoCodec<T> {
  /** Full protobuf name, e.g. "mandate.v1.ActionProposal". */
  readonly typeName: string;
  encode(value: T): Uint8Array;
  /** Throws on bytes that are not a valid encoding (e.g. truncated). */
  decode(bytes: Uint8Array): T;
}

/** The part of a ts-proto generated `MessageFns<T>` object a codec needs. */
export interface ProtoMessageFns<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

/** Builds a codec from a generated message object, e.g. `codecOf(ActionProposal, 'mandate.v1.ActionProposal')`. */
export function codecOf<T>(fns: ProtoMessageFns<T>, typeName: string): ProtoCodec<T> {
  return {
    typeName,
    encode: (value) => fns.encode(value).finish(),
    decode: (bytes) => fns.decode(bytes),
  };
}

const PACKAGE = 'mandate.v1';

/** Codecs of the messages exchanged between services (event flow and ledger payloads). */
export const codecs = {
  CrmChangeEvent: codecOf(CrmChangeEvent, `${PACKAGE}.CrmChangeEvent`),
  ActionProposal: codecOf(ActionProposal, `${PACKAGE}.ActionProposal`),
  ActionPayload: codecOf(ActionPayload, `${PACKAGE}.ActionPayload`),
  PolicyDecision: codecOf(PolicyDecision, `${PACKAGE}.PolicyDecision`),
  DecisionToken: codecOf(DecisionToken, `${PACKAGE}.DecisionToken`),
  ReviewTask: codecOf(ReviewTask, `${PACKAGE}.ReviewTask`),
  ReviewDecision: codecOf(ReviewDecision, `${PACKAGE}.ReviewDecision`),
  ExecutionOutcome: codecOf(ExecutionOutcome, `${PACKAGE}.ExecutionOutcome`),
  AuditRecord: codecOf(AuditRecord, `${PACKAGE}.AuditRecord`),
  AuditEntry: codecOf(AuditEntry, `${PACKAGE}.AuditEntry`),
  Checkpoint: codecOf(Checkpoint, `${PACKAGE}.Checkpoint`),
  PolicyControlEvent: codecOf(PolicyControlEvent, `${PACKAGE}.PolicyControlEvent`),
  TrustEvidence: codecOf(TrustEvidence, `${PACKAGE}.TrustEvidence`),
  PlanHandOff: codecOf(PlanHandOff, `${PACKAGE}.PlanHandOff`),
} as const;

/** The codec registered in `codecs` for a full type name, or undefined. */
export function codecForTypeName(typeName: string): ProtoCodec<unknown> | undefined {
  return Object.values(codecs).find((codec) => codec.typeName === typeName) as
    ProtoCodec<unknown> | undefined;
}

/**
 * The payload_type / payload pair of an AuditRecord carrying `value`. `payload` is a Buffer
 * because ts-proto (env=node) types `bytes` fields as Buffer; it shares the encoded memory.
 */
export function packPayload<T>(
  codec: ProtoCodec<T>,
  value: T,
): { payloadType: string; payload: Buffer } {
  const bytes = codec.encode(value);
  return {
    payloadType: codec.typeName,
    payload: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  };
}

/**
 * Decodes an AuditRecord's payload as the codec's type. Throws when payload_type names another
 * type, so a record is never silently decoded as the wrong message.
 */
export function unpackPayload<T>(
  codec: ProtoCodec<T>,
  record: Pick<AuditRecord, 'payloadType' | 'payload'>,
): T {
  if (record.payloadType !== codec.typeName) {
    throw new Error(
      `audit payload is ${record.payloadType || '(none)'}, expected ${codec.typeName}`,
    );
  }
  return codec.decode(record.payload);
}
