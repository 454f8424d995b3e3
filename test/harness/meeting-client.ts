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

  /** The newest meeting state received (by version), from replies and pushed frames. */
  latestState(): Frame | undefined {
    let latest: Frame | undefined;
    for (const frame of this.live.frames) {
      const state = frame.type === 'meeting.state' ? frame : frame.type === 'meeting.reply' && frame.result?.meeting ? frame.result.meeting : undefined;
      if (state && state.meetingId === this.meetingId && (!latest || state.version > latest.version)) latest = state;
    }
    return latest;
  }

  /** Waits until the newest state satisfies `predicate`. */
  async waitForState(predicate: (state: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = this.latestState();
      if (state && predicate(state)) return state;
      if (Date.now() > deadline) throw new Error(`meeting state never matched; latest: ${JSON.stringify(state)}`);
      await this.live.waitFor((f) => f.type === 'meeting.state' && f.version > (state?.version ?? 0), Math.max(1, deadline - Date.now())).catch(() => undefined);
    }
  }

  close(): void {
    this.live.close();
  }
}
