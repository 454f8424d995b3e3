// Drives the operators' console (`npm run repl`, cluster/repl.ts) over its stdin, as an
// operator would type: embedded, it attaches to the process's console socket; on a cluster
// it joins the cluster's NATS and namespace. `ask` sends one line and waits for the answer
// to show a pattern; the answer is the output the console printed since that line.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopProcess } from '../../cluster/stop-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface OperatorConsole {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Sends `line`, resolves with what the console printed after it once `until` matches that. */
  ask(line: string, until: RegExp, timeoutMs?: number): Promise<string>;
  output(): string;
  close(): Promise<void>;
}

/** `env`: SQUARED_DATA_DIR of an embedded process, or SQUARED_NATS and SQUARED_NAMESPACE of a cluster. */
export function openOperatorConsole(env: Record<string, string>): OperatorConsole {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-console-'));
  const inherited = { ...process.env };
  delete inherited.SQUARED_NATS;
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(ROOT, 'cluster', 'repl.ts')], {
    cwd: ROOT, env: { ...inherited, HOME: home, ...env }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters = new Set<() => void>();
  const grew = () => {
    for (const wake of waiters) wake();
  };
  child.stdout!.on('data', (chunk) => {
    output += chunk;
    grew();
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
    grew();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    grew();
    resolve(code);
  }));
  return {
    child,
    exited,
    output: () => output,
    ask(line, until, timeoutMs = 15_000) {
      const from = output.length;
      child.stdin!.write(`${line}\n`);
      return new Promise((resolve, reject) => {
        const check = () => {
          const answer = output.slice(from);
          if (until.test(answer)) {
            done();
            resolve(answer);
          } else if (child.exitCode !== null) {
            done();
            reject(new Error(`the console exited (${child.exitCode}) before answering ${line}: ${answer}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no answer matching ${until} to "${line}" in ${timeoutMs} ms; it printed: ${output.slice(from).slice(-3000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      child.stdin!.end();
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      await stopProcess(child, 'SIGKILL', 1000);
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Runs one command from the console's command line (`npm run repl -- <command>`), as a script would. */
export async function runOperatorCommand(env: Record<string, string>, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-console-'));
  const inherited = { ...process.env };
  delete inherited.SQUARED_NATS;
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(ROOT, 'cluster', 'repl.ts'), ...args], {
    cwd: ROOT, env: { ...inherited, HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  fs.rmSync(home, { recursive: true, force: true });
  return { code, output };
}

/** The answer's lines, without the prompts moleculer-repl's console writes before them. */
export const linesOf = (answer: string) => answer.split('\n').map((line) => line.replace(/^(squared \$ )+/, ''));

/** The row of a console table whose first cell is `first`, split into its cells. */
export function rowOf(answer: string, first: string): string[] | undefined {
  const line = linesOf(answer).find((candidate) => candidate.startsWith(`${first} `) || candidate === first);
  return line?.split(/ {2,}/);
}

/** The value of a `label  value` line. */
export function fieldOf(answer: string, label: string): string | undefined {
  const line = linesOf(answer).find((candidate) => candidate.startsWith(`${label} `));
  return line?.slice(label.length).trim();
}
