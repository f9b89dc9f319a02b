import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Debian's python3-torch and python3-torchvision install into the system Python, which a version
 * manager's `python3` earlier on the PATH does not see; so the system one is preferred.
 */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const INSTALL_HINT = 'Install real PyTorch and NumPy from Debian: apt-get install python3-torch python3-torchvision (.ci/run does).';

/** Runs a Python script given as text; fails with the install hint when the interpreter or a module is missing. */
export async function runPython(script: string, args: readonly string[] = []): Promise<Buffer> {
  try {
    const { stdout } = await run(PYTHON, ['-c', script, ...args], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '');
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || /ModuleNotFoundError/.test(stderr))
      throw new Error(`${PYTHON} cannot run the fixture script (${stderr.trim().split('\n').at(-1) ?? 'not found'}). ${INSTALL_HINT}`, { cause: error });
    throw new Error(`${PYTHON} failed: ${stderr.trim()}`, { cause: error });
  }
}
