#!/usr/bin/env node
// Renders assets/icon.svg to the PNG icon set electron-builder uses (assets/icon.png 512x512 for every
// platform, assets/icons/NxN.png for Linux) with headless Chromium. Run after changing the SVG:
//   node scripts/make-icons.mjs
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const svg = readFileSync(join(root, 'assets', 'icon.svg'), 'utf8');
const sizes = [16, 24, 32, 48, 64, 128, 256, 512];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
  ],
});
try {
  mkdirSync(join(root, 'assets', 'icons'), { recursive: true });
  for (const size of sizes) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    await page.setContent(
      `<html><body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg style="display:block;width:${size}px;height:${size}px" `)}</body></html>`,
    );
    const out = join(root, 'assets', 'icons', `${size}x${size}.png`);
    await page.screenshot({ path: out, omitBackground: true });
    if (size === 512) await page.screenshot({ path: join(root, 'assets', 'icon.png'), omitBackground: true });
    await page.close();
  }
  console.log(`icons written: assets/icon.png, assets/icons/{${sizes.join(',')}}`);
} finally {
  await browser.close();
}
