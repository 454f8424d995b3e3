// The receiving side of the load generator: N WebSocket clients (ws), each following one
// room. Lean on purpose: event frames are not JSON-parsed, only `seq` and the bench marker
// in the message text are read from the raw bytes; other frames (ready, resync, error)
// are parsed. A socket told to resync (close 4000) reconnects with `resume`, as a real
// client would, so what it missed arrives by replay and is counted, with its latency.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { Recorder } from './recorder.ts';

export interface FleetSpec {
  sockets: number;
  /** Where the sockets connect: socket i to urls[i % urls.length] (a cluster's gateways). */
  urls: string[];
  ca: Buffer;
  /** Room index of socket i. */
  roomOf(i: number): number;
  /** Room key as it appears in frames (`roomId`, `positions`). */
  roomKey(room: number): string;
  /** The hello frame of socket i, resuming from `resume` if given. */
  hello(i: number, resume?: Record<string, number>): string;
}

const EVENT_PREFIX = Buffer.from('{"type":"event"');
const SEQ = Buffer.from('"seq":');
// Bench messages have the text `bm:<k>:<sent µs>`.
const MARK = Buffer.from('"text":"bm:');
const COLON = 0x3a;

function readUint(buf: Buffer, at: number): [value: number, end: number] {
  let value = 0;
  let i = at;
  for (; i < buf.length; i++) {
    const c = buf[i] - 0x30;
    if (c < 0 || c > 9) break;
    value = value * 10 + c;
  }
  return [i === at ? -1 : value, i];
}

export class Fleet {
  private readonly spec: FleetSpec;
  private readonly rec: { current: Recorder | undefined };
  private readonly sockets: (WebSocket | undefined)[];
  /** Last seq seen per socket (each socket follows one room). */
  private readonly lastSeq: Float64Array;
  private closing = false;

  constructor(spec: FleetSpec) {
    this.spec = spec;
    this.rec = { current: undefined };
    this.sockets = new Array(spec.sockets);
    this.lastSeq = new Float64Array(spec.sockets);
  }

  /** Where deliveries are accounted from now on. */
  attach(recorder: Recorder): void {
    this.rec.current = recorder;
  }

  async connectAll(concurrency: number, onProgress?: (done: number) => void): Promise<void> {
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < this.spec.sockets) {
        const i = next++;
        await this.connect(i);
        done++;
        if (onProgress && done % 250 === 0) onProgress(done);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, this.spec.sockets) }, worker));
  }

  private connect(i: number, resume?: Record<string, number>): Promise<void> {
    const { urls, ca } = this.spec;
    const url = urls[i % urls.length];
    const roomKey = this.spec.roomKey(this.spec.roomOf(i));
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { ca, perMessageDeflate: false, skipUTF8Validation: true });
      this.sockets[i] = ws;
      let ready = false;
      const timer = setTimeout(() => {
        if (!ready) {
          ws.terminate();
          reject(new Error(`socket ${i}: no ready frame within 15 s`));
        }
      }, 15_000);
      ws.on('open', () => ws.send(this.spec.hello(i, resume)));
      ws.on('error', (err) => {
        if (!ready) {
          clearTimeout(timer);
          reject(new Error(`socket ${i}: ${err.message}`));
        }
      });
      ws.on('message', (data: Buffer) => {
        const now = performance.now();
        if (data.length > EVENT_PREFIX.length && data.compare(EVENT_PREFIX, 0, EVENT_PREFIX.length, 0, EVENT_PREFIX.length) === 0) {
          this.onEvent(i, data, now);
          return;
        }
        let frame: any;
        try {
          frame = JSON.parse(data.toString('utf8'));
        } catch {
          this.rec.current?.errorFrame(`unparsable frame: ${data.toString('utf8', 0, 200)}`);
          return;
        }
        switch (frame.type) {
          case 'ready':
            if (!resume) this.lastSeq[i] = frame.positions?.[roomKey] ?? 0;
            ready = true;
            clearTimeout(timer);
            resolve();
            return;
          case 'resync':
            if (this.rec.current) this.rec.current.resyncs++;
            return;
          case 'pong':
            return;
          case 'error':
            if (!ready) {
              clearTimeout(timer);
              reject(new Error(`socket ${i}: hello refused: ${JSON.stringify(frame)}`));
            } else {
              this.rec.current?.errorFrame(JSON.stringify(frame));
            }
            return;
          default:
            this.rec.current?.errorFrame(`unexpected frame: ${JSON.stringify(frame).slice(0, 200)}`);
        }
      });
      ws.on('close', (code) => {
        clearTimeout(timer);
        if (this.sockets[i] === ws) this.sockets[i] = undefined;
        if (!ready) {
          reject(new Error(`socket ${i}: closed with ${code} before ready`));
          return;
        }
        if (this.closing) return;
        if (code === 4000) {
          // Resync: reconnect and resume from the last seq seen.
          if (this.rec.current) this.rec.current.reconnects++;
          this.connect(i, { [roomKey]: this.lastSeq[i] }).catch((err: Error) => {
            this.rec.current?.closedUnexpectedly(-1);
            this.rec.current?.errorFrame(`reconnect failed: ${err.message}`);
          });
          return;
        }
        this.rec.current?.closedUnexpectedly(code);
      });
    });
  }

  private onEvent(i: number, data: Buffer, now: number): void {
    const rec = this.rec.current;
    const s = data.indexOf(SEQ);
    let from = 0;
    if (s >= 0) {
      const [seq, end] = readUint(data, s + SEQ.length);
      from = end;
      const last = this.lastSeq[i];
      if (rec) {
        if (seq <= last) rec.seqDuplicates++;
        else if (seq > last + 1) rec.seqGaps += seq - last - 1;
      }
      if (seq > last) this.lastSeq[i] = seq;
    }
    if (!rec) return;
    const m = data.indexOf(MARK, from);
    if (m < 0) {
      rec.otherEvents++;
      return;
    }
    const [k, end] = readUint(data, m + MARK.length);
    if (data[end] !== COLON) {
      rec.otherEvents++;
      return;
    }
    const [sentMicros] = readUint(data, end + 1);
    rec.delivered(k, sentMicros, now, data.length);
  }

  /** Sockets currently open. */
  openCount(): number {
    let n = 0;
    for (const ws of this.sockets) if (ws && ws.readyState === WebSocket.OPEN) n++;
    return n;
  }

  async closeAll(): Promise<void> {
    this.closing = true;
    const closed = this.sockets.filter((ws): ws is WebSocket => ws !== undefined).map((ws) => new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 3_000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close(1000);
    }));
    await Promise.all(closed);
  }
}
