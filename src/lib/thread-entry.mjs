// @ts-check
/**
 * Every thread runInThread starts begins here, then loads its worker module (workerData.entry).
 * JavaScript, not TypeScript, because of what it does first: Node strips the types of each .ts module
 * a thread loads, and a new thread pays again for the stripper (a WebAssembly module) and for every
 * module it loads, about 150–250 ms before its first line of work. With a cache folder
 * (workerData.codeCache), a load hook serves each .ts module's stripped text from that folder, keyed
 * by a hash of its source and the Node version, so a module is stripped once per change, not once
 * per thread. Stripping keeps every line and column in place, so stack traces stay true. Without the
 * folder, or on a Node without these module APIs, Node loads the modules itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { workerData } from 'node:worker_threads';

const { codeCache, entry } = workerData;
const CODE_CACHE_DAYS = 30;

if (codeCache && typeof nodeModule.registerHooks === 'function' && typeof nodeModule.stripTypeScriptTypes === 'function') {
  const folder = new URL(codeCache);
  const decoder = new TextDecoder();
  // The stripping API says once per thread that it is experimental; used knowingly, it need not say
  // so in every build's output. Every other warning is printed as before.
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'ExperimentalWarning' && warning.message.startsWith('stripTypeScriptTypes')) return;
    for (const print of printers) print.call(process, warning);
  });
  nodeModule.registerHooks({
    load(url, context, nextLoad) {
      // Node's own loader decides what is TypeScript; only its stripping is replaced, and not under
      // node_modules, where Node refuses to strip.
      const loaded = nextLoad(url, context);
      if (loaded.format !== 'module-typescript' || url.includes('/node_modules/')) return loaded;
      const source = typeof loaded.source === 'string' ? loaded.source : decoder.decode(loaded.source);
      const file = new URL(`${createHash('sha256').update(process.version).update('\0').update(source).digest('hex')}.js`, folder);
      let code;
      try {
        code = readFileSync(file, 'utf8');
      } catch {
        code = nodeModule.stripTypeScriptTypes(source, { mode: 'strip' });
        keep(file, code);
      }
      return { format: 'module', source: code, shortCircuit: true };
    },
  });

  /**
   * Written aside and renamed, so that no thread reads half a file; a folder that cannot be written only costs the speed-up.
   * @param {URL} file
   * @param {string} code
   */
  function keep(file, code) {
    const aside = new URL(`${file.pathname.split('/').pop()}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`, folder);
    try {
      mkdirSync(folder, { recursive: true });
      writeFileSync(aside, code);
      renameSync(aside, file);
    } catch {
      try {
        rmSync(aside, { force: true });
      } catch {
        // No folder, so no file either.
      }
    }
  }
}

await import(entry);

if (codeCache) void sweepCodeCache(new URL(codeCache));

/**
 * A module's entry changes with its source and with Node, and nothing else removes the old one; an
 * entry is therefore dropped a month after it was written, whether or not it is still used (then it
 * is stripped and written anew, once). Other threads may be reading meanwhile: one that misses a
 * file strips the module itself.
 * @param {URL} folder
 */
async function sweepCodeCache(folder) {
  const { readdir, rm, stat } = await import('node:fs/promises');
  const before = Date.now() - CODE_CACHE_DAYS * 24 * 3600 * 1000;
  for (const name of await readdir(folder).catch(() => [])) {
    const file = new URL(name, folder);
    const info = await stat(file).catch(() => undefined);
    if (info && info.mtimeMs < before) await rm(file, { force: true }).catch(() => undefined);
  }
}
