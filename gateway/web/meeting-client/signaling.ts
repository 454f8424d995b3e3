// The live socket as this page uses it: hello/ready, then meeting requests matched to
// their replies by id, each with a deadline, and the meeting.state / meeting.delta frames pushed by
// the server (docs/live-protocol.md, docs/meetings.md).
import type { ErrorBody, MeetingDelta, MeetingState } from './protocol.ts';

const REQUEST_TIMEOUT_MS = 15_000;
const HELLO_TIMEOUT_MS = 10_000;
/** A request refused for going too fast (429) is sent again after the wait, this many times. */
const RATE_LIMITED_RETRIES = 5;

/** A refused meeting request: the server's status and code, e.g. 403 MEETING_IN_LOBBY. */
export class SignalingError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  /** Set when the request was refused for going too fast (429): when to send it again. */
  readonly retryAfterMs: number | undefined;

  constructor(error: ErrorBody) {
    super(error.message);
    this.status = error.status;
    this.code = error.code;
    this.retryAfterMs = error.status === 429 ? error.retryAfterMs : undefined;
  }
}

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

type Frame = { type: string; [key: string]: unknown };

export interface SignalingHandlers {
  onState(state: MeetingState): void;
  onDelta(delta: MeetingDelta): void;
  onClose(code: number, reason: string): void;
}

export class Signaling {
  private readonly socket: WebSocket;
  private readonly meetingId: string;
  private readonly handlers: SignalingHandlers;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;

  private constructor(socket: WebSocket, meetingId: string, handlers: SignalingHandlers) {
    this.socket = socket;
    this.meetingId = meetingId;
    this.handlers = handlers;
    socket.addEventListener('message', (event) => this.receive(String(event.data)));
    socket.addEventListener('close', (event) => {
      for (const [id, pending] of this.pending) {
        clearTimeout(pending.timer);
        pending.reject(new Error(`the live socket closed (${event.code}) before request ${id} was answered`));
      }
      this.pending.clear();
      handlers.onClose(event.code, event.reason);
    });
  }

  /** Opens the live socket of this page's origin, says hello and waits for ready. */
  static async connect(token: string, meetingId: string, handlers: SignalingHandlers): Promise<Signaling> {
    const socket = new WebSocket(`wss://${location.host}/v1/live`);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error('the live socket could not be opened')), { once: true });
    });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ready after hello')), HELLO_TIMEOUT_MS);
      const onMessage = (event: MessageEvent) => {
        const frame = JSON.parse(String(event.data)) as Frame;
        if (frame.type !== 'ready' && frame.type !== 'error') return;
        clearTimeout(timer);
        socket.removeEventListener('message', onMessage);
        if (frame.type === 'ready') resolve();
        else reject(new Error(`sign-in refused: ${String(frame.message)}`));
      };
      socket.addEventListener('message', onMessage);
      socket.addEventListener('close', (event) => reject(new Error(`the live socket closed (${event.code} ${event.reason})`)), { once: true });
    });
    socket.send(JSON.stringify({ type: 'hello', token }));
    await ready;
    return new Signaling(socket, meetingId, handlers);
  }

  /** Sends a meeting request and waits for its reply; one refused for going too fast is sent again after the wait. */
  async request<T = Record<string, never>>(action: string, params: Record<string, unknown> = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.requestOnce<T>(action, params);
      } catch (err) {
        const waitMs = err instanceof SignalingError ? err.retryAfterMs : undefined;
        if (waitMs === undefined || attempt >= RATE_LIMITED_RETRIES) throw err;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  private requestOnce<T>(action: string, params: Record<string, unknown>): Promise<T> {
    const id = String(this.nextId++);
    return new Promise<T>((resolve, reject) => {
      if (this.socket.readyState !== WebSocket.OPEN) {
        reject(new Error(`cannot send ${action}: the live socket is closed`));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${action} was not answered within ${REQUEST_TIMEOUT_MS / 1000} s`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject, timer });
      this.socket.send(JSON.stringify({ type: 'meeting', id, meetingId: this.meetingId, action, ...params }));
    });
  }

  close(): void {
    this.socket.close(1000, 'left');
  }

  private receive(data: string): void {
    const frame = JSON.parse(data) as Frame;
    if (frame.type === 'meeting.reply') {
      const pending = this.pending.get(String(frame.id));
      if (!pending) return; // answered after its deadline: the caller has moved on
      this.pending.delete(String(frame.id));
      clearTimeout(pending.timer);
      if (frame.ok) pending.resolve(frame.result ?? {});
      else pending.reject(new SignalingError(frame.error as ErrorBody));
    } else if (frame.type === 'meeting.state' && frame.meetingId === this.meetingId) {
      this.handlers.onState(frame as unknown as MeetingState);
    } else if (frame.type === 'meeting.delta' && frame.meetingId === this.meetingId) {
      this.handlers.onDelta(frame as unknown as MeetingDelta);
    } else if (frame.type === 'error') {
      console.warn('live socket error frame', frame);
    }
  }
}
