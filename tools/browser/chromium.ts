import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's chromium (apt package `chromium`, installed by tools/stack/install-chromium.sh) driven
 * by playwright-core. Never downloads a browser: a missing binary is an error that says how to
 * install it. Flags keep it headless, sandbox-free (containers, CI) and off the network.
 */
export const CHROMIUM_PATH = process.env.MANDATE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `${CHROMIUM_PATH} not found: install Debian's chromium (bash tools/stack/install-chromium.sh) or set MANDATE_CHROMIUM`,
    );
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}
