import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { runAstro } from './run.ts';
import { serveStatic } from './static-server.ts';

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

/**
 * The repository's own site, built from the real ResNet50 into `out` under the sub-path `base` and
 * served as a static host would; with the build's log, for tests that read it.
 */
export async function buildAndServeSite(out: URL, base: string): Promise<{ site: Awaited<ReturnType<typeof serveStatic>>; log: string }> {
  const build = await runAstro(['build', '--outDir', fileURLToPath(out)], { cwd: new URL('../../', import.meta.url), env: { BASE: base } });
  if (build.code !== 0) throw new Error(`site build failed:\n${build.stdout}\n${build.stderr}`);
  return { site: await serveStatic(out, base), log: build.stdout + build.stderr };
}

/**
 * Whether the page scrolls sideways, and if so the elements that stick out, for the failure message.
 * Inside a box that scrolls or clips on its own, sticking out of the viewport is that box's business.
 */
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; width: number; wide: string[] }> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide: string[] = [];
    for (const element of document.querySelectorAll('body *')) {
      const box = element.getBoundingClientRect();
      if (box.width === 0 || box.right <= width + 0.5) continue;
      let contained = false;
      for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement)
        if (/(auto|scroll|hidden|clip)/.test(getComputedStyle(parent).overflowX) && parent.getBoundingClientRect().right <= width + 0.5) contained = true;
      if (!contained) wide.push(`${element.tagName.toLowerCase()}.${element.className} → ${Math.round(box.right)}px`);
    }
    return { scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8) };
  });
}

const AXE_SCRIPT = fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url));

/** The page's serious and critical accessibility violations as axe-core finds them, each with up to three of its elements. */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE_SCRIPT });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: () => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    return (await axe.run()).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
}
