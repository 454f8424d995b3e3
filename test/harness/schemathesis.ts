// Where the spec fuzzer (Schemathesis, from PyPI) lives for the tests, and how `test/run.ts`
// installs it: a virtualenv of one pinned version under ~/.cache/squared, created once and
// never from inside a test (a test's deadline would leave pip or apt-get half done).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SCHEMATHESIS_VERSION = '4.32.5';

const venvDir = () => path.join(os.homedir(), '.cache', 'squared', `schemathesis-${SCHEMATHESIS_VERSION}`);

/**
 * The `st` executable the spec fuzzer runs: `SQUARED_SCHEMATHESIS` when set (a path to
 * another install of the same version), else the virtualenv `test/run.ts` creates.
 */
export function schemathesisPath(): string {
  return process.env.SQUARED_SCHEMATHESIS || path.join(venvDir(), 'bin', 'st');
}

/** The version `st` reports, or undefined when it does not run. */
export function installedSchemathesis(bin = schemathesisPath()): string | undefined {
  if (!fs.existsSync(bin)) return undefined;
  const run = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  return run.status === 0 ? /(\d+\.\d+\.\d+)/.exec(run.stdout)?.[1] : undefined;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

function run(command: string, args: string[], timeoutMs: number): boolean {
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'], timeout: timeoutMs, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', PIP_DISABLE_PIP_VERSION_CHECK: '1' },
  });
  return result.status === 0;
}

/** Debian splits `venv` out of Python: python3-venv (and python3.N-venv on some releases). */
function installVenvPackage(): boolean {
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) return false;
  const minor = spawnSync('python3', ['-c', 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")'], { encoding: 'utf8' }).stdout.trim();
  const options = ['-o', 'DPkg::Lock::Timeout=300', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];
  say('=== installing python3-venv for the spec fuzzer (apt-get)');
  if (!run('apt-get', [...options, 'update', '-qq'], 15 * 60_000)) return false;
  const wanted = ['python3-venv', ...(minor ? [`python${minor}-venv`] : [])];
  // python3.N-venv does not exist on every release: fall back to the generic package alone.
  return run('apt-get', [...options, 'install', '-y', '-qq', '--no-install-recommends', ...wanted], 15 * 60_000)
    || run('apt-get', [...options, 'install', '-y', '-qq', '--no-install-recommends', 'python3-venv'], 15 * 60_000);
}

/**
 * Makes sure Schemathesis `SCHEMATHESIS_VERSION` is installed where `schemathesisPath()`
 * looks, creating the virtualenv and installing the exact version with pip when it is not.
 * Says why when it cannot; the spec-fuzz test then skips (or, in CI, fails).
 */
export function ensureSchemathesis(): void {
  if (installedSchemathesis() === SCHEMATHESIS_VERSION) return;
  if (process.env.SQUARED_SCHEMATHESIS) {
    say(`\nSQUARED_SCHEMATHESIS=${process.env.SQUARED_SCHEMATHESIS} is not Schemathesis ${SCHEMATHESIS_VERSION}: the spec fuzz test will not run`);
    return;
  }
  const dir = venvDir();
  if (spawnSync('python3', ['--version'], { stdio: 'ignore' }).status !== 0) {
    say('\npython3 missing: the spec fuzz test (test/api/spec-fuzz.test.ts) will not run (sudo apt-get install python3 python3-venv)');
    return;
  }
  say(`\n=== installing Schemathesis ${SCHEMATHESIS_VERSION} for the spec fuzz test into ${dir}`);
  const started = Date.now();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  // Without python3-venv, `python3 -m venv` fails (ensurepip is missing) and leaves a shell.
  if (!run('python3', ['-m', 'venv', dir], 5 * 60_000)) {
    fs.rmSync(dir, { recursive: true, force: true });
    if (!installVenvPackage() || !run('python3', ['-m', 'venv', dir], 5 * 60_000)) {
      say('python3 -m venv failed and python3-venv cannot be installed from here: sudo apt-get install python3-venv');
      fs.rmSync(dir, { recursive: true, force: true });
      return;
    }
  }
  if (!run(path.join(dir, 'bin', 'pip'), ['install', '--quiet', `schemathesis==${SCHEMATHESIS_VERSION}`], 15 * 60_000)) {
    say(`pip install schemathesis==${SCHEMATHESIS_VERSION} failed: the spec fuzz test will not run`);
    fs.rmSync(dir, { recursive: true, force: true });
    return;
  }
  say(`=== Schemathesis ${installedSchemathesis() ?? '?'} installed in ${Math.round((Date.now() - started) / 1000)} s`);
}
