/**
 * A headless Chromium for the page tests, with nothing installed by hand: Debian's chromium where
 * the machine has it, otherwise the build that ships inside the pinned npm package
 * @sparticuz/chromium (unpacked to the temp folder on first use). Flags keep it off the network.
 */
import { existsSync } from 'node:fs';
import { Browser, chromium } from 'playwright-core';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const OFFLINE = ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchChromium(): Promise<Browser> {
  if (existsSync(DEBIAN_CHROMIUM)) return chromium.launch({ executablePath: DEBIAN_CHROMIUM, args: ['--headless', '--no-sandbox', ...OFFLINE] });
  const packaged = (await import('@sparticuz/chromium')).default;
  // One process per page is the browser's default; the package's --single-process suits a serverless function, not a test.
  const args = packaged.args.filter((a) => a !== '--single-process');
  return chromium.launch({ executablePath: await packaged.executablePath(), args: [...args, ...OFFLINE] });
}
