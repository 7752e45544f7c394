/**
 * Strict standard base64 (RFC 4648 §4, padded, canonical): Node's decoder silently skips invalid
 * characters, which would let two different strings name the same bytes in signed data.
 */
export function decodeBase64Strict(s: string): Buffer | undefined {
  if (typeof s !== 'string') return undefined;
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : undefined;
}

/** Whether `s` has an ASCII control character (U+0000–U+001F), newline excepted if allowed. */
export function hasControlCharacter(s: string, allowNewline = false): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && !(allowNewline && c === 0x0a)) return true;
  }
  return false;
}
