// A live sync client for the tests: connects over WSS, says hello (optionally resuming),
// records every frame, and tracks the last seq per room the way a real client would.
import WebSocket from 'ws';

export interface EventFrame {
  type: 'event';
  roomId: string;
  seq: number;
  event: string;
  actorId: string;
  created: string;
  data: Record<string, any>;
}

export type Frame = { type: string; [key: string]: any };

export class LiveClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly socket: WebSocket;
  private readonly waiters = new Set<() => void>();
  private readonly listeners = new Set<(frame: Frame) => void>();

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      this.frames.push(frame);
      for (const listener of this.listeners) listener(frame);
      for (const wake of this.waiters) wake();
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => {
      for (const wake of this.waiters) wake();
      resolve({ code, reason: reason.toString() });
    }));
  }

  /** Opens a socket without saying hello, for protocol tests. */
  static open(baseUrl: string, ca: Buffer): Promise<LiveClient> {
    const socket = new WebSocket(new URL('/v1/live', baseUrl.replace(/^https/, 'wss')), { ca, handshakeTimeout: 10_000 });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new LiveClient(socket)));
      socket.once('error', reject);
      socket.once('close', (code) => reject(new Error(`live socket closed (${code}) before it opened`)));
    });
  }

  /** Connects, says hello and waits for `ready`. */
  static async connect(baseUrl: string, ca: Buffer, token: string, resume?: Record<string, number>): Promise<LiveClient> {
    const client = await LiveClient.open(baseUrl, ca);
    client.send({ type: 'hello', token, ...(resume ? { resume } : {}) });
    await client.waitFor((f) => f.type === 'ready' || f.type === 'error');
    const first = client.frames[0];
    if (first.type !== 'ready') throw new Error(`live hello refused: ${JSON.stringify(first)}`);
    return client;
  }

  /** Calls `listener` with every frame from now on, until the function it answers is called. */
  onFrame(listener: (frame: Frame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  get events(): EventFrame[] {
    return this.frames.filter((f): f is EventFrame => f.type === 'event');
  }

  eventsOf(roomId: string): EventFrame[] {
    return this.events.filter((e) => e.roomId === roomId);
  }

  /** The last seq seen per room: what a client sends as `resume` after a reconnect. */
  positions(): Record<string, number> {
    const positions: Record<string, number> = {};
    for (const frame of this.frames) {
      if (frame.type === 'ready') Object.assign(positions, frame.positions);
      if (frame.type === 'event') positions[frame.roomId] = frame.seq;
    }
    return positions;
  }

  /** Resolves with the first frame matching, waiting for new frames up to `timeoutMs`. */
  waitFor(predicate: (frame: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.frames.find(predicate);
        if (found) {
          cleanup();
          resolve(found);
        } else if (this.socket.readyState === WebSocket.CLOSED) {
          cleanup();
          reject(new Error(`socket closed while waiting; frames: ${JSON.stringify(this.frames.slice(-5))}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for a frame; last frames: ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Stops reading from the socket, so the server's buffer for it fills up. */
  pauseReading(): void {
    (this.socket as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  resumeReading(): void {
    (this.socket as unknown as { _socket: { resume(): void } })._socket.resume();
  }

  close(): void {
    this.socket.close();
  }

  terminate(): void {
    this.socket.terminate();
  }
}
