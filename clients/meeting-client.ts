// Meeting signaling for the tests (docs/meetings.md): requests over a live socket, each
// answered by the `meeting.reply` with its id, and the meeting states the socket received.
import { LiveClient, type Frame } from './live-client.ts';

export interface MeetingReply {
  ok: boolean;
  result?: any;
  error?: { status: number; code: string; message: string };
}

export class MeetingClient {
  readonly live: LiveClient;
  readonly meetingId: string;
  participantId: string | undefined;
  private next = 1;

  private constructor(live: LiveClient, meetingId: string) {
    this.live = live;
    this.meetingId = meetingId;
  }

  static async connect(baseUrl: string, ca: Buffer, token: string, meetingId: string): Promise<MeetingClient> {
    return new MeetingClient(await LiveClient.connect(baseUrl, ca, token), meetingId);
  }

  /** Sends one request (extra fields beside the envelope) and waits for its reply. */
  async request(action: string, args: Record<string, unknown> = {}, meetingId = this.meetingId): Promise<MeetingReply> {
    const id = `r${this.next++}`;
    this.live.send({ type: 'meeting', id, meetingId, action, ...args });
    const reply = await this.live.waitFor((f) => f.type === 'meeting.reply' && f.id === id, 15_000);
    return reply as unknown as MeetingReply;
  }

  /** Like request, but fails unless the reply is ok; answers the result. */
  async ok(action: string, args: Record<string, unknown> = {}): Promise<any> {
    const reply = await this.request(action, args);
    if (!reply.ok) throw new Error(`${action} refused: ${JSON.stringify(reply.error)}`);
    if (action === 'join') this.participantId = reply.result.participantId;
    return reply.result;
  }

  /**
   * The meeting state as a client keeps it: the newest full state (a `meeting.state` frame,
   * or the state in a join reply), with each `meeting.delta` that follows it applied in
   * the order received.
   */
  latestState(): Frame | undefined {
    return this.fold().state;
  }

  /** Deltas received that did not follow the state the socket had: the server must send none. */
  strayDeltas(): Frame[] {
    return this.fold().stray;
  }

  private fold(): { state: Frame | undefined; stray: Frame[] } {
    let state: Frame | undefined;
    const stray: Frame[] = [];
    for (const frame of this.live.frames) {
      const full = frame.type === 'meeting.state' ? frame : frame.type === 'meeting.reply' && frame.result?.meeting ? frame.result.meeting : undefined;
      if (full?.meetingId === this.meetingId) {
        if (!state || full.version > state.version) state = full;
      } else if (frame.type === 'meeting.delta' && frame.meetingId === this.meetingId) {
        if (state && frame.after === state.version) state = patched(state, frame);
        else stray.push(frame);
      }
    }
    return { state, stray };
  }

  /** Waits until the state satisfies `predicate`. */
  async waitForState(predicate: (state: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = this.latestState();
      if (state && predicate(state)) return state;
      if (Date.now() > deadline) throw new Error(`meeting state never matched; latest: ${JSON.stringify(state)}`);
      const seen = this.live.frames.length;
      await this.live.waitFor((f) => this.live.frames.indexOf(f) >= seen && (f.type === 'meeting.state' || f.type === 'meeting.delta'), Math.max(1, deadline - Date.now())).catch(() => undefined);
    }
  }

  close(): void {
    this.live.close();
  }
}

/** A delta applied to the state it follows (docs/meetings.md). */
function patched(state: Frame, delta: Frame): Frame {
  const left = new Set<string>(delta.left ?? []);
  const changes = new Map<string, any>((delta.participants ?? []).map((p: any) => [p.id, p]));
  const participants = state.participants.filter((p: any) => !left.has(p.id)).map((p: any) => {
    const changed = changes.get(p.id);
    changes.delete(p.id);
    return changed ?? p;
  });
  participants.push(...changes.values());
  return {
    ...state,
    version: delta.version,
    ...(delta.meeting ? { meeting: delta.meeting } : {}),
    ...('activeSpeaker' in delta ? { activeSpeaker: delta.activeSpeaker } : {}),
    participants,
  };
}
