// The preview sandbox: renders untrusted files in child processes, never in the actor's own.
// A file can be hostile (a decompression bomb, a PDF of a million drawing operations, a
// corrupt image that trips a decoder's bug): each job runs in a child with a V8 heap cap, a
// wall-clock limit and a resident-memory limit that the parent watches from outside (libvips
// and WebAssembly memory are outside V8's heap, and a child stuck in native code cannot watch
// itself). A child past a limit is SIGKILLed; one that dies takes only its own job along.
// Either way the job fails with a RenderFailure and a fresh child serves the next one.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { RenderFailure, type AvatarRendition, type Preview, type RenderJob, type RenderLimits, type WorkerReply } from './render-types.ts';

const WORKER = new URL('./render-worker.ts', import.meta.url);
/** Loading sharp and MuPDF's WebAssembly on a busy machine; not part of a job's time. */
const START_TIMEOUT_MS = 60_000;
const RSS_CHECK_MS = 20;
const PAGE_BYTES = 4096;

/** Resident bytes of a process, from Linux's /proc; undefined elsewhere or once it is gone. */
function residentBytes(pid: number): number | undefined {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES;
  } catch {
    return undefined;
  }
}

/** One child process, used for one job at a time, thrown away after any failure of its own. */
class RenderChild {
  readonly process: ChildProcess;
  private nextId = 1;
  dead = false;

  private constructor(child: ChildProcess) {
    this.process = child;
    child.once('exit', () => {
      this.dead = true;
    });
  }

  static async create(limits: RenderLimits): Promise<RenderChild> {
    const child = fork(WORKER, [], {
      execArgv: ['--disable-warning=ExperimentalWarning', `--max-old-space-size=${limits.maxHeapMb}`],
      // Only what the renderer needs: no credentials or engine addresses in its environment.
      env: { PATH: process.env.PATH ?? '', SQUARED_RENDER_LIMITS: JSON.stringify(limits) },
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    const render = new RenderChild(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new RenderFailure('crashed', 'The preview renderer did not start.'));
      }, START_TIMEOUT_MS);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new RenderFailure('crashed', `The preview renderer exited at start (${signal ?? code}).`));
      });
    });
    render.idle();
    return render;
  }

  /** An idle child keeps nobody alive: a process that is done may exit with children idle. */
  private idle(): void {
    this.process.unref();
    (this.process.channel as { unref?(): void } | undefined)?.unref?.();
  }

  private busy(): void {
    this.process.ref();
    (this.process.channel as { ref?(): void } | undefined)?.ref?.();
  }

  run(job: RenderJob, limits: RenderLimits): Promise<Preview | AvatarRendition[]> {
    const id = this.nextId++;
    const child = this.process;
    this.busy();
    return new Promise<Preview | AvatarRendition[]>((resolve, reject) => {
      const finish = (outcome: () => void) => {
        clearTimeout(timer);
        clearInterval(watch);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (!this.dead) this.idle();
        outcome();
      };
      const kill = (failure: RenderFailure) => {
        this.dead = true;
        child.kill('SIGKILL');
        finish(() => reject(failure));
      };
      const onMessage = (reply: WorkerReply) => {
        if (reply.id !== id) return;
        finish(() => (reply.ok ? resolve(reply.result) : reject(new RenderFailure(reply.reason, reply.message))));
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        this.dead = true;
        // V8 past --max-old-space-size aborts the process: a memory failure, not a crash.
        const reason = signal === 'SIGABRT' || signal === 'SIGTRAP' || code === 134 ? 'memory' : 'crashed';
        finish(() => reject(new RenderFailure(reason, `The preview renderer died (${signal ?? code}).`)));
      };
      const timer = setTimeout(() => kill(new RenderFailure('timeout', `Rendering took longer than ${limits.timeoutMs} ms.`)), limits.timeoutMs);
      const checkMemory = () => {
        const rss = child.pid === undefined ? undefined : residentBytes(child.pid);
        if (rss !== undefined && rss > limits.maxRssBytes) kill(new RenderFailure('memory', `Rendering needed more than ${limits.maxRssBytes} bytes of memory.`));
      };
      const watch = setInterval(checkMemory, RSS_CHECK_MS);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ id, job }, (err) => {
        if (err) kill(new RenderFailure('crashed', `The preview renderer cannot be reached: ${err.message}`));
      });
      checkMemory();
    });
  }
}

/**
 * A pool of at most `size` children, started when first needed; jobs beyond it wait their
 * turn in arrival order.
 */
export class RenderSandbox {
  private readonly limits: RenderLimits;
  private readonly size: number;
  private readonly idle: RenderChild[] = [];
  /** Every live child, busy or idle, so that close() reaches them all. */
  private readonly children = new Set<RenderChild>();
  private readonly waiting: ((child: RenderChild | undefined) => void)[] = [];
  private starting = 0;
  private running = 0;
  private closed = false;

  constructor(limits: RenderLimits, size = 1) {
    this.limits = limits;
    this.size = size;
  }

  /** A preview of any file: its type is sniffed from the bytes in the child. */
  preview(bytes: Uint8Array): Promise<Preview> {
    return this.run({ op: 'preview', bytes }) as Promise<Preview>;
  }

  /** The image cropped square at each size, as WebP and PNG; anything else fails. */
  avatar(bytes: Uint8Array, sizes: readonly number[]): Promise<AvatarRendition[]> {
    return this.run({ op: 'avatar', bytes, sizes }) as Promise<AvatarRendition[]>;
  }

  private async run(job: RenderJob): Promise<Preview | AvatarRendition[]> {
    const child = await this.acquire();
    try {
      return await child.run(job, this.limits);
    } finally {
      this.release(child);
    }
  }

  private async acquire(): Promise<RenderChild> {
    if (this.closed) throw new RenderFailure('crashed', 'The preview sandbox is closed.');
    // A child that died while idle (killed from outside) is forgotten, never handed a job.
    let ready = this.idle.pop();
    while (ready?.dead) {
      this.children.delete(ready);
      ready = this.idle.pop();
    }
    if (ready) {
      this.running++;
      return ready;
    }
    if (this.running + this.starting < this.size) {
      this.starting++;
      try {
        const child = await RenderChild.create(this.limits);
        this.children.add(child);
        this.running++;
        return child;
      } finally {
        this.starting--;
      }
    }
    const handed = await new Promise<RenderChild | undefined>((resolve) => this.waiting.push(resolve));
    if (handed) return handed;
    // The child of the job before died: start a fresh one in its place.
    return this.acquire();
  }

  private release(child: RenderChild): void {
    this.running--;
    if (child.dead) this.children.delete(child);
    const next = this.waiting.shift();
    if (this.closed) {
      child.process.kill('SIGKILL');
      next?.(undefined);
      return;
    }
    if (child.dead) {
      next?.(undefined);
      return;
    }
    if (next) {
      this.running++;
      next(child);
    } else {
      this.idle.push(child);
    }
  }

  /** Kills the children; jobs running fail as crashed, jobs waiting are refused. */
  close(): void {
    this.closed = true;
    this.idle.length = 0;
    for (const child of this.children) child.process.kill('SIGKILL');
    this.children.clear();
    for (const next of this.waiting.splice(0)) next(undefined);
  }
}
