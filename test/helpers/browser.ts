import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

/** Debian's Chromium, headless, with the flags this machine's closed network needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page and every error it reported: console errors, exceptions, failed requests and HTTP errors. */
export interface Opened {
  page: Page;
  errors: string[];
}

/**
 * Opens `url` in a new context (1000×900 unless `options` say otherwise; `prepare` may add init
 * scripts to it first) and waits until the network is idle.
 */
export async function openPage(browser: Browser, url: string, options: BrowserContextOptions = {}, prepare?: (context: BrowserContext) => Promise<unknown>): Promise<Opened> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, ...options });
  await prepare?.(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('requestfailed', (request) => errors.push(`failed: ${request.url()}`));
  page.on('response', (response) => response.status() >= 400 && errors.push(`${response.status()}: ${response.url()}`));
  await page.goto(url, { waitUntil: 'networkidle' });
  return { page, errors };
}
