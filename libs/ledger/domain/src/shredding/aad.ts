/** Unambiguous AAD: a context label, then each part length-prefixed (u32 BE, UTF-8). */
export function lengthPrefixed(label: string, parts: readonly string[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of [label, ...parts]) {
    const bytes = Buffer.from(part, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    chunks.push(len, bytes);
  }
  return Buffer.concat(chunks);
}
