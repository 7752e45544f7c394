import { credentials, type ServiceError } from '@grpc/grpc-js';
import { unaryCall } from '@mandate/platform';
import {
  AuditEntry,
  AuditRecord,
  auditKindToJSON,
  LedgerServiceClient,
  type Checkpoint,
  type GetCausalChainRequest,
  type GetCausalChainResponse,
  type ListByCorrelationRequest,
  type ListByCorrelationResponse,
  type ProvenEntry,
} from '@mandate/contracts';
import type { TenantId } from '@mandate/storage';

/** What the console's audit trail and ledger view read from the audit ledger. */
export interface LedgerChainPort {
  /** Entries of one correlation id or about one CRM record, proven against the latest checkpoint. */
  causalChain(
    tenant: TenantId,
    key: { correlationId: string } | { objectType: string; recordId: string },
  ): Promise<GetCausalChainResponse>;
  /** Every entry of one correlation id, checkpointed or not (no proofs). */
  byCorrelation(tenant: TenantId, correlationId: string): Promise<AuditEntry[]>;
}

/** The ledger could not be read (unreachable, deadline): the API answers 503. */
export class LedgerUnavailableError extends Error {
  override readonly name = 'LedgerUnavailableError';
}

export interface GrpcLedgerChainOptions {
  /** host:port of the audit ledger's gRPC server (`LEDGER_GRPC_ADDRESS`). */
  readonly address: string;
  /** Per-call deadline (default 5 s). */
  readonly deadlineMs?: number;
}

/** The ledger's `GetCausalChain` and `ListByCorrelation` over gRPC (the distributed human-review). */
export class GrpcLedgerChain implements LedgerChainPort {
  private readonly client: InstanceType<typeof LedgerServiceClient>;
  private readonly deadlineMs: number;

  constructor(o: GrpcLedgerChainOptions) {
    this.client = new LedgerServiceClient(o.address, credentials.createInsecure());
    this.deadlineMs = o.deadlineMs ?? 5_000;
  }

  causalChain(
    tenant: TenantId,
    key: { correlationId: string } | { objectType: string; recordId: string },
  ): Promise<GetCausalChainResponse> {
    const req: GetCausalChainRequest = {
      tenantId: tenant,
      key:
        'correlationId' in key
          ? { $case: 'correlationId', value: key.correlationId }
          : { $case: 'record', value: { objectType: key.objectType, recordId: key.recordId } },
    };
    return this.call('GetCausalChain', this.client.getCausalChain, req);
  }

  async byCorrelation(tenant: TenantId, correlationId: string): Promise<AuditEntry[]> {
    const res = await this.call<ListByCorrelationRequest, ListByCorrelationResponse>(
      'ListByCorrelation',
      this.client.listByCorrelation,
      { tenantId: tenant, correlationId },
    );
    return res.entries;
  }

  close(): void {
    this.client.close();
  }

  private async call<Req, Res>(
    name: string,
    method: (this: LedgerServiceClient, ...args: never[]) => unknown,
    req: Req,
  ): Promise<Res> {
    try {
      return await unaryCall<LedgerServiceClient, Req, Res>(
        this.client,
        method as never,
        req,
        this.deadlineMs,
      );
    } catch (err) {
      const e = err as ServiceError;
      throw new LedgerUnavailableError(`ledger ${name} failed: ${e.details || e.message}`);
    }
  }
}

/** One ledger entry as the console shows and verifies it (bytes as base64). */
export interface ChainEntryView {
  leafIndex: number;
  /** RFC 9162 leaf hash, SHA-256(0x00 || leafData). */
  leafHash: string;
  /** The exact bytes the leaf hash covers (the stored record; its payload stays encrypted). */
  leafData: string;
  /** Inclusion proof against `checkpoint` (absent: appended after the latest checkpoint). */
  auditPath?: string[];
  appendedAt?: string;
  recordId: string;
  correlationId: string;
  kind: string;
  actor: string;
  subject?: { objectType: string; recordId: string };
  occurredAt?: string;
  summary: string;
  attributes: Record<string, string>;
}

export interface ChainView {
  /** The checkpoint every proof is against; null while the ledger has signed none. */
  checkpoint: { origin: string; treeSize: number; rootHash: string; signedNote: string } | null;
  entries: ChainEntryView[];
  /** Entries of the correlation appended after that checkpoint: listed, not yet provable. */
  pending: ChainEntryView[];
}

const b64 = (b: Uint8Array | undefined) => Buffer.from(b ?? new Uint8Array()).toString('base64');

function entryView(e: AuditEntry, auditPath?: readonly Uint8Array[]): ChainEntryView {
  // Shown from the leaf bytes the proof covers, never from the record the ledger sends beside
  // them (a ledger could pair genuine bytes with another summary). The console decodes them too.
  let r: AuditRecord | undefined;
  try {
    r = AuditRecord.decode(e.leafData ?? new Uint8Array());
  } catch {
    r = undefined;
  }
  return {
    leafIndex: Number(e.leafIndex),
    leafHash: b64(e.leafHash),
    leafData: b64(e.leafData),
    ...(auditPath ? { auditPath: auditPath.map(b64) } : {}),
    ...(e.appendedAt ? { appendedAt: e.appendedAt } : {}),
    recordId: r?.recordId ?? '',
    correlationId: r?.correlationId ?? '',
    kind: r ? auditKindToJSON(r.kind).replace(/^AUDIT_KIND_/, '') : 'UNREADABLE',
    actor: r?.actor ?? '',
    ...(r?.subject?.recordId
      ? { subject: { objectType: r.subject.objectType, recordId: r.subject.recordId } }
      : {}),
    ...(r?.occurredAt ? { occurredAt: r.occurredAt } : {}),
    // The summary and attributes are written PII-free by every service. The payload is not
    // shown; a CRM change's payload (record fields) is encrypted per data subject in leafData.
    summary: r?.summary ?? '',
    attributes: { ...(r?.attributes ?? {}) },
  };
}

/**
 * The chain for the console: proven entries in log order, plus (for a correlation id) the entries
 * appended since the checkpoint, which the browser lists as "awaiting the next checkpoint".
 */
export function chainView(
  proven: GetCausalChainResponse,
  all: readonly AuditEntry[] = [],
): ChainView {
  const entries = proven.entries
    .filter((p): p is ProvenEntry & { entry: AuditEntry } => !!p.entry)
    .map((p) => entryView(p.entry, p.auditPath));
  const seen = new Set(entries.map((e) => e.leafIndex));
  const pending = all.filter((e) => !seen.has(Number(e.leafIndex))).map((e) => entryView(e));
  return { checkpoint: checkpointView(proven.checkpoint), entries, pending };
}

function checkpointView(cp: Checkpoint | undefined): ChainView['checkpoint'] {
  if (!cp) return null;
  return {
    origin: cp.origin,
    treeSize: Number(cp.treeSize),
    rootHash: b64(cp.rootHash),
    signedNote: cp.signedNote,
  };
}
