import { createHash } from 'node:crypto';

/**
 * Content hash of a bundle: SHA-256 over its files sorted by the UTF-8 bytes of their paths,
 * each framed as  u32be(len(path)) ‖ path ‖ u64be(len(bytes)) ‖ bytes  (UTF-8), so that no two
 * different file sets hash alike. Returns "sha256:<lower-case hex>". Independent of the order
 * in which files are given, and of where they come from (a directory or MongoDB).
 */
export function bundleContentHash(files: Readonly<Record<string, string>>): string {
  const entries = Object.entries(files).map(
    ([path, text]) => [Buffer.from(path, 'utf8'), Buffer.from(text, 'utf8')] as const,
  );
  entries.sort(([a], [b]) => Buffer.compare(a, b));
  const hash = createHash('sha256');
  for (const [path, bytes] of entries) {
    const pathLen = Buffer.alloc(4);
    pathLen.writeUInt32BE(path.length);
    const bytesLen = Buffer.alloc(8);
    bytesLen.writeBigUInt64BE(BigInt(bytes.length));
    hash.update(pathLen).update(path).update(bytesLen).update(bytes);
  }
  return `sha256:${hash.digest('hex')}`;
}
