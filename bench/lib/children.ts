// Child processes and temporary directories of a bench run, and the guarantee that they do
// not outlive it: on normal exit, on an error, and on Ctrl-C / SIGTERM / SIGHUP.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopProcess } from '../../cluster/stop-process.ts';

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let installed = false;

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Registers a child so that it is stopped whatever way the bench ends. */
export function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** A fresh temporary directory, removed when the bench ends. */
export function makeTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export const stopChild = (child: ChildProcess, graceMs = 10_000): Promise<void> => stopProcess(child, 'SIGTERM', graceMs);

export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.all([...children].map((child) => stopChild(child, graceMs)));
  for (const dir of [...tempDirs]) removeTempDir(dir);
}

/** Installs the exit and signal handlers (once). */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  // Last resort, synchronous: whatever is still running is killed, temp dirs removed.
  process.on('exit', () => {
    for (const child of children) if (alive(child)) child.kill('SIGKILL');
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  const codes: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal} received, stopping ${children.size} child process(es)…\n`);
      // A second signal while stopping falls through to the default handler (exit), and
      // the exit handler above SIGKILLs what is left.
      void stopAll(3_000).finally(() => process.exit(codes[signal]));
    });
  }
}
