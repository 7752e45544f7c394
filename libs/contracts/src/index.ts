// Public API of @mandate/contracts: the types generated from proto/ (never edit gen/ by hand;
// run `npm run codegen`) plus small hand-written helpers.
//
// Each generated module is re-exported whole. ts-proto runs with exportCommonSymbols=false, so
// the per-file helpers (protobufPackage, DeepPartial, MessageFns) are not exported and cannot
// clash. If two modules ever export the same name, `tsc` fails with TS2308 on the lines below:
// resolve it here with an explicit, aliased export.
export * from './gen/mandate/v1/common';
export * from './gen/mandate/v1/crm';
export * from './gen/mandate/v1/action';
export * from './gen/mandate/v1/policy';
export * from './gen/mandate/v1/review';
export * from './gen/mandate/v1/execution';
export * from './gen/mandate/v1/audit';
export * from './gen/mandate/v1/handoff';
export * from './gen/mandate/v1/connector';
// Service modules (these load @grpc/grpc-js).
export * from './gen/mandate/v1/policy_service';
export * from './gen/mandate/v1/review_service';
export * from './gen/mandate/v1/ledger_service';
export * from './gen/mandate/v1/connector_service';
// Well-known types, named explicitly: struct.ts also exports the generic names Value and
// ListValue, which we keep out of the public namespace. Generated fields use plain TS forms
// (Timestamp -> ISO string, Struct -> object); these are for code that needs the messages.
export { Timestamp } from './gen/google/protobuf/timestamp';
export { Struct } from './gen/google/protobuf/struct';

export * from './proto-codec';
export * from './crm-action';
export * from './merge-fields';
