import type { Codec } from './topic-spec';

/** The shape ts-proto generates for every message: `X.encode(v).finish()`, `X.decode(bytes)`. */
export interface ProtobufMessageFns<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

/** Codec over a ts-proto message; `typeName` is the protobuf full name, e.g. `mandate.v1.AuditEntry`. */
export function protobufCodec<T>(typeName: string, fns: ProtobufMessageFns<T>): Codec<T> {
  return Object.freeze({
    typeName,
    contentType: 'application/protobuf',
    encode: (value: T) => fns.encode(value).finish(),
    decode: (bytes: Uint8Array) => fns.decode(bytes),
  });
}

/** JSON codec, for tests and tooling; production topics use protobuf. */
export function jsonCodec<T>(typeName: string): Codec<T> {
  return Object.freeze({
    typeName,
    contentType: 'application/json',
    encode: (value: T) => new TextEncoder().encode(JSON.stringify(value)),
    decode: (bytes: Uint8Array) =>
      JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as T,
  });
}
