// Runs the operators' admin command (`npm run admin`, cluster/admin.ts) to its end, for tests.
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface AdminRun { code: number | null; stdout: string; stderr: string; json: Record<string, any> }

/** The process environment without Squared's settings, so that only what a test gives counts. */
export const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('SQUARED_'))) as Record<string, string>;

/** Its exit code, output, and the JSON of its last line of output (empty when there is none). */
export function runAdmin(args: string[], env: Record<string, string>): Promise<AdminRun> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(ROOT, 'cluster/admin.ts'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      let json = {};
      try {
        json = stdout.trim() ? JSON.parse(stdout.trim().split('\n').at(-1)!) : {};
      } catch {
        // asserted on by the caller
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}
