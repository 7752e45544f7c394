import type { AuditEntry, Checkpoint } from '@mandate/contracts';
import { exportCheckpointLine, exportHeaderLine, writeExportLine } from '../verify';

/** Where an export reads a log: the ledger's gRPC API (CLI) or its reader (in-process). */
export interface ExportSource {
  origin: string;
  tenantId: string;
  /** Verifier keys to name in the header (an auditor verifies with their own anyway). */
  verifierKeys: string[];
  entries(from: number, limit: number): Promise<AuditEntry[]>;
  checkpoints(fromSize: number, limit: number): Promise<Checkpoint[]>;
}

/**
 * Writes a `mandate-ledger-export/v1` file: the header, then every entry covered by the latest
 * checkpoint with each checkpoint right after the entry that completes it. Entries carry the
 * leaf hash as stored, so a verifier pinpoints the first entry whose bytes were altered.
 * Returns the number of entries and checkpoints written, and where entries went missing (a
 * damaged log: the export is still written, and its verification fails at that index).
 */
export async function exportLedger(
  source: ExportSource,
  write: (line: string) => Promise<void>,
  now: Date = new Date(),
  pageSize = 1000,
): Promise<{ entries: number; checkpoints: number; missingFrom?: number }> {
  await write(
    exportHeaderLine({
      origin: source.origin,
      tenantId: source.tenantId,
      verifierKeys: source.verifierKeys,
      exportedAt: now.toISOString(),
    }),
  );
  const checkpoints: Checkpoint[] = [];
  for (let from = 1; ;) {
    const page = await source.checkpoints(from, 1000);
    checkpoints.push(...page);
    if (page.length < 1000) break;
    from = Number(page[page.length - 1].treeSize) + 1;
  }
  if (!checkpoints.length) return { entries: 0, checkpoints: 0 };
  const last = Number(checkpoints[checkpoints.length - 1].treeSize);
  let next = 0;
  let cp = 0;
  let complete = true;
  read: while (next < last) {
    const page = await source.entries(next, Math.min(pageSize, last - next));
    for (const e of page) {
      if (Number(e.leafIndex) !== next) break;
      await write(
        writeExportLine({
          type: 'entry',
          index: next,
          record: Buffer.from(e.leafData).toString('base64'),
          leafHash: Buffer.from(e.leafHash).toString('base64'),
        }),
      );
      next++;
      while (cp < checkpoints.length && Number(checkpoints[cp].treeSize) === next)
        await write(exportCheckpointLine(checkpoints[cp++].signedNote));
      if (next === last) break read;
    }
    if (page.length === 0 || Number(page[page.length - 1].leafIndex) !== next - 1) {
      // The log is missing entry `next` although a checkpoint covers it: write what there is
      // and the remaining checkpoints, so the verifier reports exactly where the log breaks.
      complete = false;
      break;
    }
  }
  while (cp < checkpoints.length) await write(exportCheckpointLine(checkpoints[cp++].signedNote));
  return { entries: next, checkpoints: cp, missingFrom: complete ? undefined : next };
}
