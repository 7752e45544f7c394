/** Query options whose values are secrets (or may embed one) and must never reach a log. */
const SECRET_OPTIONS = new Set([
  'password',
  'authmechanismproperties',
  'tlscertificatekeyfilepassword',
  'sslpass',
  'secret',
  'token',
]);

/**
 * The URL with user info and secret-bearing options masked, for logs and error messages.
 * Works on multi-host and `mongodb+srv` URLs, which `new URL()` cannot parse.
 */
export function redactMongoUrl(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i.exec(url.trim());
  if (!match) return '<unparseable mongodb url>';
  const [, scheme, authority, rest] = match as unknown as [string, string, string, string];
  const at = authority.lastIndexOf('@');
  const hosts = at >= 0 ? `***@${authority.slice(at + 1)}` : authority;
  const query = rest.replace(/([?&])([^=&#]+)=([^&#]*)/g, (all, sep: string, name: string) =>
    SECRET_OPTIONS.has(name.toLowerCase()) ? `${sep}${name}=***` : all,
  );
  return `${scheme}${hosts}${query}`;
}

/** Removes the URL's credentials from free text (e.g. a driver error message) as a last line of defence. */
export function scrubCredentials(text: string, url: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(url.trim());
  if (!match) return text;
  const userInfo = match[1] ?? '';
  const secrets = new Set<string>();
  for (const part of [userInfo, ...userInfo.split(':')]) {
    if (part.length >= 3) {
      secrets.add(part);
      try {
        secrets.add(decodeURIComponent(part));
      } catch {
        // A malformed escape is still masked in its raw form above.
      }
    }
  }
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length))
    out = out.split(secret).join('***');
  return out;
}
