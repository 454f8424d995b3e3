// Spawns a server under test as its own Node process (the same Node as the driver), waits
// for its ready line, and keeps the tail of its output and a count of warnings/errors.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { stopChild, track } from './children.ts';

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  /** The JSON payload of the ready line. */
  ready: Record<string, any>;
  /** Log lines at warn level or above, and a few distinct examples of them. */
  warnings(): { count: number; examples: string[] };
  tail(lines?: number): string;
  /** Whether the process exited before `stop()` was called (a crash). */
  crashed(): string | undefined;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  script: string;
  args?: string[];
  cwd: string;
  env: Record<string, string>;
  /** The line the process prints when ready: `<readyPrefix> {json}`. */
  readyPrefix: string;
  readyTimeoutMs?: number;
  /** Give the child a stdin pipe that it may watch to exit when the driver dies. */
  stdinPipe?: boolean;
}

// pino level numbers (40 warn, 50 error, 60 fatal) or words, for JSON or pretty output.
const WARNING = /"level":\s*(4\d|5\d|6\d)\b|"level":\s*"(warn|error|fatal)"|\b(WARN|ERROR|FATAL)\b/;

export async function spawnServer(options: SpawnOptions): Promise<ServerProcess> {
  // `--profile` (bench/run.ts): a CPU profile per server, in a folder named after it, written when it exits.
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const profiling = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, options.name.replace(/[^A-Za-z0-9_-]+/g, '-'))}`] : [];
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', ...profiling, options.script, ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: [options.stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  track(child);
  const lines: string[] = [];
  let warningCount = 0;
  const examples = new Map<string, string>();
  let stopping = false;
  let exitInfo: string | undefined;
  let partial = '';
  const onLine = (line: string) => {
    lines.push(line);
    if (lines.length > 400) lines.splice(0, lines.length - 200);
    if (WARNING.test(line)) {
      warningCount++;
      let key = line;
      try {
        const parsed = JSON.parse(line);
        key = `${parsed.msg ?? ''} ${parsed.err?.message ?? ''}`.trim() || line;
      } catch {
        // not JSON: the line itself
      }
      if (examples.size < 8 && !examples.has(key)) examples.set(key, line.slice(0, 400));
    }
  };
  const onData = (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const parts = text.split('\n');
    partial = parts.pop()!;
    for (const part of parts) onLine(part);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  child.once('exit', (code, signal) => {
    if (partial) onLine(partial);
    if (!stopping) exitInfo = `${options.name} exited unexpectedly (code ${code}, signal ${signal})`;
  });
  const tail = (n = 30) => lines.slice(-n).join('\n');

  const ready = await new Promise<Record<string, any>>((resolve, reject) => {
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      reject(new Error(`${options.name} did not become ready within ${timeoutMs / 1000} s. Last output:\n${tail()}`));
    }, timeoutMs);
    const check = () => {
      for (const line of lines) {
        if (line.startsWith(`${options.readyPrefix} `)) {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          resolve(JSON.parse(line.slice(options.readyPrefix.length + 1)));
          return;
        }
      }
    };
    child.stdout!.on('data', check);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} could not be spawned: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited (code ${code}, signal ${signal}) before it was ready. Last output:\n${tail()}`));
    });
  }).catch(async (err) => {
    stopping = true;
    await stopChild(child, 2_000);
    throw err;
  });

  return {
    child,
    pid: child.pid!,
    ready,
    warnings: () => ({ count: warningCount, examples: [...examples.values()] }),
    tail,
    crashed: () => exitInfo,
    async stop() {
      stopping = true;
      await stopChild(child, 10_000);
    },
  };
}
