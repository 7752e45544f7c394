import { parseCheckpoint, verifyNote } from '../checkpoint';
import { CompactRange, leafHash, verifyConsistency } from '../merkle';

/** A checkpoint as a monitor receives it: only the signed note is trusted, after verification. */
export interface MonitoredCheckpoint {
  size: number;
  note: string;
}

/** A leaf as stored: the exact bytes and the hash the log claims for them. */
export interface MonitoredLeaf {
  index: number;
  leafData: Buffer;
  leafHash: Buffer;
}

/** Where a monitor reads the log (the service's gRPC API, or the database in-process). */
export interface MonitorSource {
  /** Checkpoints with size ≥ fromSize, ascending. */
  checkpoints(fromSize: number): Promise<MonitoredCheckpoint[]>;
  /** Leaves from `from` in index order (at most `limit`). */
  leaves(from: number, limit: number): Promise<MonitoredLeaf[]>;
  consistencyProof(size1: number, size2: number): Promise<Buffer[]>;
}

export type AlarmKind =
  | 'bad_signature'
  | 'wrong_origin'
  | 'fork'
  | 'inconsistent'
  | 'leaf_hash'
  | 'gap'
  | 'missing_leaf'
  | 'root_mismatch';

export interface MonitorAlarm {
  kind: AlarmKind;
  /** First leaf index at fault, when one is known. */
  index?: number;
  /** Tree size of the checkpoint concerned. */
  size?: number;
  detail: string;
}

export interface LedgerMonitorOptions {
  /** C2SP verifier keys of the log (the monitor's own trust anchor, not the log's word). */
  verifierKeys: string[];
  /** Expected checkpoint origin. */
  origin: string;
  /** Old leaves re-verified per cycle (a rolling re-scan catches rewrites of history). */
  rescanPerCycle?: number;
  pageSize?: number;
}

/**
 * Follows a log's checkpoints like a witness and an auditor at once. Each cycle: every new
 * checkpoint's signature and origin are checked; it must be consistent with the last trusted one
 * (RFC 9162 consistency proof from the log), two checkpoints of one size must agree (else a
 * fork); the new leaves are fetched, each leaf hash recomputed from its bytes, and the root
 * recomputed and compared with the checkpoint. A rolling re-scan re-verifies old leaves from the
 * start against the trusted checkpoints, so rewriting history (edit, delete, reorder, truncate)
 * is caught even after it was first verified. Alarms are returned; the caller logs and counts.
 */
export class LedgerMonitor {
  private trusted?: { size: number; root: Buffer };
  private readonly roots = new Map<number, Buffer>();
  private range = new CompactRange();
  private rescan = new CompactRange();
  private readonly rescanPerCycle: number;
  private readonly pageSize: number;

  constructor(
    private readonly source: MonitorSource,
    private readonly options: LedgerMonitorOptions,
  ) {
    this.rescanPerCycle = options.rescanPerCycle ?? 10_000;
    this.pageSize = options.pageSize ?? 1000;
  }

  /** Size of the latest checkpoint verified (0 before the first). */
  get verifiedSize(): number {
    return this.trusted?.size ?? 0;
  }

  async cycle(): Promise<MonitorAlarm[]> {
    const alarms: MonitorAlarm[] = [];
    const fresh = await this.source.checkpoints(Math.max(1, this.verifiedSize));
    for (const cp of fresh) {
      const head = this.open(cp, alarms);
      if (!head) continue;
      const known = this.roots.get(head.size);
      if (known && !known.equals(head.root)) {
        alarms.push({
          kind: 'fork',
          size: head.size,
          detail: `two signed checkpoints of size ${head.size} with different roots`,
        });
        continue;
      }
      if (this.trusted && head.size > this.trusted.size) {
        const proof = await this.source.consistencyProof(this.trusted.size, head.size);
        const v = verifyConsistency(
          this.trusted.size,
          head.size,
          this.trusted.root,
          head.root,
          proof,
        );
        if (!v.ok) {
          alarms.push({
            kind: 'inconsistent',
            size: head.size,
            detail: `checkpoint ${head.size} is not an extension of ${this.trusted.size}: ${v.reason}`,
          });
          continue;
        }
      }
      if (head.size > this.range.size) {
        const ok = await this.extend(this.range, head.size, alarms);
        if (!ok) continue;
        if (!this.range.root().equals(head.root)) {
          alarms.push({
            kind: 'root_mismatch',
            size: head.size,
            detail: `leaves [0, ${head.size}) hash to a different root than the signed checkpoint`,
          });
          this.range = new CompactRange();
          continue;
        }
      }
      this.roots.set(head.size, head.root);
      if (!this.trusted || head.size > this.trusted.size) this.trusted = head;
    }
    await this.rescanStep(alarms);
    return alarms;
  }

  /** Verifies a checkpoint's note; undefined (and an alarm) when it does not hold. */
  private open(cp: MonitoredCheckpoint, alarms: MonitorAlarm[]) {
    const v = verifyNote(cp.note, this.options.verifierKeys);
    if (!v.ok) {
      alarms.push({ kind: 'bad_signature', size: cp.size, detail: v.reason });
      return undefined;
    }
    const body = parseCheckpoint(v.body);
    if (body.origin !== this.options.origin) {
      alarms.push({
        kind: 'wrong_origin',
        size: body.size,
        detail: `checkpoint origin "${body.origin}" is not "${this.options.origin}"`,
      });
      return undefined;
    }
    return { size: body.size, root: Buffer.from(body.rootHash) };
  }

  /** Appends leaves [range.size, size) to `range`, checking each; false on a problem. */
  private async extend(range: CompactRange, size: number, alarms: MonitorAlarm[]) {
    while (range.size < size) {
      const page = await this.source.leaves(range.size, Math.min(this.pageSize, size - range.size));
      if (!page.length) {
        alarms.push({
          kind: 'missing_leaf',
          index: range.size,
          size,
          detail: `the log has no leaf ${range.size} but a checkpoint of size ${size} was signed`,
        });
        return false;
      }
      for (const leaf of page) {
        if (leaf.index !== range.size) {
          alarms.push({
            kind: 'gap',
            index: range.size,
            size,
            detail: `expected leaf ${range.size}, the log returned ${leaf.index}`,
          });
          return false;
        }
        const computed = leafHash(leaf.leafData);
        if (!computed.equals(leaf.leafHash)) {
          alarms.push({
            kind: 'leaf_hash',
            index: leaf.index,
            size,
            detail: `leaf ${leaf.index}'s bytes do not hash to its stored leaf hash`,
          });
          return false;
        }
        range.append(computed);
        if (range.size === size) break;
      }
    }
    return true;
  }

  /** Re-verifies up to `rescanPerCycle` old leaves, comparing with trusted roots as it passes them. */
  private async rescanStep(alarms: MonitorAlarm[]): Promise<void> {
    if (!this.trusted) return;
    const target = Math.min(this.trusted.size, this.rescan.size + this.rescanPerCycle);
    const sizes = [...this.roots.keys()]
      .filter((s) => s > this.rescan.size && s <= target)
      .sort((a, b) => a - b);
    for (const s of [...sizes, target]) {
      if (s <= this.rescan.size) continue;
      const before = alarms.length;
      if (!(await this.extend(this.rescan, s, alarms))) {
        this.rescan = new CompactRange();
        for (const a of alarms.slice(before)) a.detail = `re-scan: ${a.detail}`;
        return;
      }
      const root = this.roots.get(s);
      if (root && !this.rescan.root().equals(root)) {
        alarms.push({
          kind: 'root_mismatch',
          size: s,
          detail: `re-scan: leaves [0, ${s}) no longer hash to the signed root (history rewritten)`,
        });
        this.rescan = new CompactRange();
        return;
      }
    }
    if (this.rescan.size >= this.trusted.size) this.rescan = new CompactRange(); // sweep again
  }
}
