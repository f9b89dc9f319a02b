import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertModernNode, createPackedSite, FixtureDirs, packRepository, warningLines, type PackedSite } from '../helpers/packed-site.ts';

/**
 * The oldest Astro the package supports (its peer range starts at 7.3.0): the packed package in a
 * fresh one-page site on exactly that version builds and draws. The newest 7.x is the blog's and
 * Starlight's (blog.test.ts, starlight.test.ts).
 */
const OLDEST = '7.3.0';
const dirs = new FixtureDirs();
let site: PackedSite;

beforeAll(async () => {
  assertModernNode();
  const peer = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).peerDependencies.astro as string;
  expect(peer).toBe(`^${OLDEST}`);
  const tarball = await packRepository(dirs);
  site = await createPackedSite(dirs, tarball, { prefix: 'astro-conv1-oldest-', packages: [`astro@${OLDEST}`, '@astrojs/mdx@8.1.1'], npmArgs: ['--ignore-scripts'] });
  await site.write({
    'astro.config.mjs': "import { defineConfig } from 'astro/config';\nimport mdx from '@astrojs/mdx';\nimport conv1 from 'astro-conv1';\nexport default defineConfig({ integrations: [mdx(), conv1()] });\n",
    'src/pages/index.mdx': '# Oldest Astro\n\n<Conv1Grid />\n',
  });
});

afterAll(() => dirs.cleanup());

describe(`astro-conv1 on Astro ${OLDEST}`, () => {
  it('builds a page with the grid; the only warnings are Astro 7.3’s own about MDX directives', async () => {
    const version = JSON.parse(await readFile(new URL('node_modules/astro/package.json', site.root), 'utf8')).version;
    expect(version).toBe(OLDEST);
    const build = await site.astro(['build']);
    const log = build.stdout + build.stderr;
    expect(build.code, log).toBe(0);
    const html = await readFile(new URL('dist/index.html', site.root), 'utf8');
    expect(html).toMatch(/<img class="pixels" src="\/_astro\/conv1\/grid-column-filter-x8\.[\w-]+\.png"/);
    // Astro before 7.4 warns about "use astro:head-inject" in MDX that renders a styled component.
    const foreign = warningLines(log).filter((line) => !/MODULE_LEVEL_DIRECTIVE|module level directive/.test(line));
    expect(foreign, log).toEqual([]);
  });
});
