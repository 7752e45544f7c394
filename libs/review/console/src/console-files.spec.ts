import * as path from 'node:path';
import { CONSOLE_DIR, CONSOLE_HEADERS, consoleFile } from './console-files';

describe('console files', () => {
  it('finds the static folder from the sources', () => {
    expect(CONSOLE_DIR).toBe(path.resolve(__dirname, '..', 'static'));
  });

  it('serves index.html for /console/, /console and client-side routes', () => {
    for (const p of ['/console/', '/console', '/console/index.html', '/console/queue?x=1', '/']) {
      const f = consoleFile(p);
      expect(f?.contentType).toBe('text/html; charset=utf-8');
      expect(f?.body.toString('utf8')).toContain('<!doctype html>');
    }
  });

  it('serves the modules and the stylesheet with their content types', () => {
    expect(consoleFile('/console/app.js')?.contentType).toBe('text/javascript; charset=utf-8');
    expect(consoleFile('/console/styles.css')?.contentType).toBe('text/css; charset=utf-8');
    expect(consoleFile('/console/views/item.js?v=1#x')?.body.length).toBeGreaterThan(0);
  });

  it('refuses traversal, hidden files, unknown extensions and missing files', () => {
    for (const p of [
      '/console/../console-files.ts',
      '/console/%2e%2e/src/index.ts',
      '/console/..%2f..%2fpackage.json',
      '/console/views/../../src/index.ts',
      '/console/..\\..\\package.json',
      '/console/%00index.html',
      '/console/%E0%A4%A',
      '/console/.env',
      '/console/missing.js',
      '/console/README.md',
    ])
      expect(consoleFile(p)).toBeUndefined();
  });

  it('locks the page to its own origin', () => {
    expect(CONSOLE_HEADERS['content-security-policy']).toContain("script-src 'self'");
    expect(CONSOLE_HEADERS['x-content-type-options']).toBe('nosniff');
  });
});
