import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { CHROMIUM_PATH, launchChromium } from './chromium';

/**
 * The browser toolchain the console tests use: Debian's chromium under playwright-core renders a
 * page served on loopback, runs its script, takes keyboard input and a screenshot.
 */
describe('Debian chromium under playwright-core', () => {
  let browser: Browser;
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><title>probe</title>
        <p id="out">waiting</p>
        <script>
          document.addEventListener('keydown', (e) => {
            if (e.key === 'a') document.getElementById('out').textContent = 'approved';
          });
        </script>`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it(`runs ${CHROMIUM_PATH} headless: page, script, keyboard, screenshot`, async () => {
    const page = await browser.newPage();
    await page.goto(origin);
    expect(await page.title()).toBe('probe');
    await page.keyboard.press('a');
    await expect(page.locator('#out').textContent()).resolves.toBe('approved');
    const png = await page.screenshot();
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(browser.version()).toMatch(/^\d+\./);
  });
});
