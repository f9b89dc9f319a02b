/**
 * Writes test/analyse/golden/reports.json: the full LayerReport of every layer of the golden corpus
 * (golden-corpus.ts), as the analysis computed it when the file was written. golden.test.ts checks
 * that the analysis still gives these answers. Run `node test/analyse/write-golden.ts` only when a
 * change of results is intended and explained; the file was first written by the analysis as it was
 * before it was made fast (issue 15), so that the fast one could be held to the slow one's answers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { analyseLayer } from '../../src/lib/analyse/index.ts';
import { GOLDEN_FILE, goldenCorpus } from './golden-corpus.ts';

/**
 * Significant digits kept of each non-integer number: far finer than any tolerance of the test, and
 * it keeps the fixture a third smaller than full doubles would.
 */
const DIGITS = 9;

const rounded = (_key: string, value: unknown): unknown => (typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(DIGITS)) : value);

const { layers, unreadable } = await goldenCorpus();
const reports = layers.map(({ id, kernel }) => ({ id, report: analyseLayer(kernel) }));
await mkdir(new URL('./', GOLDEN_FILE), { recursive: true });
// One layer per line: a change of results shows in a diff as the lines of the layers it touched.
const text = `{"digits":${DIGITS},"unreadable":${JSON.stringify(unreadable)},"layers":[\n${reports.map((r) => JSON.stringify(r, rounded)).join(',\n')}\n]}\n`;
await writeFile(GOLDEN_FILE, text);
process.stdout.write(`${reports.length} layers (${reports.reduce((n, r) => n + r.report.filters.length, 0)} filters) written to ${GOLDEN_FILE.pathname}, ${(text.length / 1024).toFixed(0)} KB\n`);
