import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const RELATIVE = path.join('libs', 'review', 'console', 'static');

/**
 * The console's static files: `MANDATE_CONSOLE_DIR` when set, else `static/` next to `src/`
 * (sources), else found by walking up from this file to the repository root (dist/out-tsc, and the
 * image, where the folder is copied next to dist/ like the policy bundle). The build (`tsc`) copies
 * no static files, which is why they are looked up, not bundled.
 */
export function consoleDir(): string {
  if (process.env.MANDATE_CONSOLE_DIR) return path.resolve(process.env.MANDATE_CONSOLE_DIR);
  const sibling = path.resolve(__dirname, '..', 'static');
  if (existsSync(path.join(sibling, 'index.html'))) return sibling;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, RELATIVE);
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
    if (path.dirname(dir) === dir) return path.resolve(RELATIVE);
  }
}

/** Absolute path of the console's static files (resolved once, at load). */
export const CONSOLE_DIR = consoleDir();

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * Headers to send with every console file: the page loads only its own scripts and styles and
 * talks only to its own origin (no CDN, no inline script), and cannot be framed.
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export interface ConsoleFile {
  body: Buffer;
  contentType: string;
}

/**
 * Maps a request path (`/console/`, `/console/app.js`, or the same without the `/console` prefix;
 * query and fragment ignored) to a file of the console. `undefined` for anything that is not a
 * known file inside `dir`: traversal (`..`, encoded or not), backslashes, NUL, hidden files,
 * unknown extensions. Paths without an extension (client-side routes) get `index.html`.
 */
export function consoleFile(urlPath: string, dir: string = CONSOLE_DIR): ConsoleFile | undefined {
  let p = urlPath.split(/[?#]/, 1)[0] ?? '';
  try {
    p = decodeURIComponent(p);
  } catch {
    return undefined;
  }
  if (p.includes('\0') || p.includes('\\')) return undefined;
  p = p.replace(/^\/+/, '');
  if (p === 'console') p = '';
  else if (p.startsWith('console/')) p = p.slice('console/'.length);
  const segments = p.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.' || s.startsWith('.'))) return undefined;
  let rel = segments.join('/');
  if (rel === '' || path.posix.extname(rel) === '') rel = 'index.html';
  const contentType = CONTENT_TYPES[path.posix.extname(rel).toLowerCase()];
  if (!contentType) return undefined;
  const root = path.resolve(dir);
  const file = path.resolve(root, rel);
  if (!file.startsWith(root + path.sep)) return undefined;
  try {
    if (!statSync(file).isFile()) return undefined;
    return { body: readFileSync(file), contentType };
  } catch {
    return undefined;
  }
}
