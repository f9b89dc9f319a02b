/**
 * Components in MDX without an import line: the import the integration appends names exactly the
 * components a file uses and does not import or define itself, and the list of components is the
 * barrel's, which is the list of .astro files.
 */
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { autoImportLine, componentNames, COMPONENTS_MODULE } from '../../src/integrations/conv1/vite-plugin-auto-import.ts';

const NAMES = componentNames();

describe('componentNames', () => {
  it('lists every component the package ships, from the barrel', async () => {
    const files = (await readdir(new URL('../../src/components/', import.meta.url))).filter((name) => name.endsWith('.astro'));
    expect([...NAMES].sort()).toEqual(files.map((name) => name.replace(/\.astro$/, '')).sort());
    const barrel = await readFile(new URL('../../src/components/index.ts', import.meta.url), 'utf8');
    for (const name of NAMES) expect(barrel).toContain(`export { default as ${name} } from './${name}.astro';`);
  });
});

describe('autoImportLine', () => {
  it('imports the components a file uses, once each', () => {
    const source = '---\ntitle: A post\n---\n# Filters\n\n<Conv1Grid />\n\nText <Conv1Filter index={0} /> and <Conv1Grid order="row"/>.\n\n<Conv1Explorer\n  model="second"\n/>\n';
    expect(autoImportLine(source, NAMES)).toBe(`import { Conv1Grid, Conv1Filter, Conv1Explorer } from '${COMPONENTS_MODULE}';`);
  });

  it('leaves out what the file imports or defines itself, but not a name it imports under another', () => {
    const source = [
      "import { Conv1Grid } from 'astro-conv1/components';",
      'import {',
      '  Conv1Filter as Other,',
      "} from 'somewhere';",
      "import Conv1Report from '../my/Report.astro';",
      'export const Conv1Compare = () => null;',
      '',
      '<Conv1Grid /> <Conv1Filter index={1} /> <Conv1Report /> <Conv1Compare /> <Conv1ModelInfo />',
    ].join('\n');
    expect(autoImportLine(source, NAMES)).toBe(`import { Conv1Filter, Conv1ModelInfo } from '${COMPONENTS_MODULE}';`);
  });

  it('adds nothing to a file that uses no component, nor for names that only start like one', () => {
    expect(autoImportLine('# Plain post\n\nNo figures here.\n', NAMES)).toBeUndefined();
    expect(autoImportLine('<Conv1GridLike />\n<conv1grid />\n', NAMES)).toBeUndefined();
  });
});
