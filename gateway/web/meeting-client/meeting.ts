// One participation in a meeting, driven by the server's snapshots (docs/meetings.md):
// join, wait in the lobby, set up media once joined, set it up again when our mediaEpoch
// grows, keep consumers in step with the others' producers, take our place back when the
// live socket drops (media go on meanwhile), and stop when we leave, are expelled or the
// meeting ends. Snapshot handling runs one at a time, always on the
// newest snapshot, so a burst of them costs one reconciliation.
import { Device } from 'mediasoup-client';
import { MediaSession, type InboundBytes } from './media.ts';
import type { PageView } from './page-view.ts';
import { withDelta, type JoinResult, type MeetingDelta, type MeetingState, type Participant } from './protocol.ts';
import type { Credentials } from './sign-in.ts';
import { Signaling } from './signaling.ts';

export type Phase = 'connecting' | 'lobby' | 'joined' | 'reconnecting' | 'left' | 'ended' | 'expelled' | 'failed';

/** How long the page tries to reconnect after its live socket dropped (the server keeps our place 30 s by default). */
const RECONNECT_FOR_MS = 60_000;

export class MeetingClient {
  state: MeetingState | undefined;
  participantId: string | undefined;
  phase: Phase = 'connecting';
  /** Why the page stopped, when it did. */
  reason: string | undefined;
  private readonly view: PageView;
  private signaling: Signaling | undefined;
  private device: Device | undefined;
  private local: MediaStream | undefined;
  private media: MediaSession | undefined;
  private queue: Promise<void> = Promise.resolve();
  /** Once we asked to leave, our absence from a snapshot is our own doing, not an expulsion. */
  private leaving = false;
  private credentials: Credentials | undefined;
  /** Times the page took its place back after its live socket dropped. */
  reconnects = 0;
  /** What media requests go through: always the current live socket. */
  private readonly requester = {
    request: <T = Record<string, never>>(action: string, params?: Record<string, unknown>): Promise<T> => {
      if (!this.signaling) return Promise.reject(new Error('not connected'));
      return this.signaling.request<T>(action, params);
    },
  };

  constructor(view: PageView) {
    this.view = view;
  }

  async join(credentials: Credentials): Promise<void> {
    this.credentials = credentials;
    try {
      this.view.status('Connecting…');
      this.signaling = await this.connect();
      // The device can only be loaded with the router's capabilities, which the join reply brings.
      const joined = await this.signaling.request<JoinResult>('join');
      this.participantId = joined.participantId;
      // The state now, before anything else is awaited: the deltas that follow apply to it.
      this.state = joined.meeting;
      this.device = await Device.factory();
      await this.device.load({ routerRtpCapabilities: joined.routerRtpCapabilities });
      this.refresh();
    } catch (err) {
      this.finish('failed', `Could not join: ${(err as Error).message}`);
    }
  }

  /** A live socket whose closing matters only while it is the current one. */
  private async connect(): Promise<Signaling> {
    const { token, meetingId } = this.credentials!;
    let signaling: Signaling | undefined = undefined;
    signaling = await Signaling.connect(token, meetingId, {
      onState: (state) => this.receive(state),
      onDelta: (delta) => this.receiveDelta(delta),
      onClose: (code, reason) => {
        if (signaling === this.signaling) this.dropped(code, reason);
      },
    });
    return signaling;
  }

  /**
   * The live socket closed without our asking (a gateway drained or lost, a network
   * change). The server keeps our place for a grace: join again naming our participant id
   * and carry on with the same media, which never depended on the socket.
   */
  private dropped(code: number, reason: string): void {
    const why = `Disconnected from the server (${code}${reason ? `: ${reason}` : ''}).`;
    // 4001: the token is no longer accepted; a reconnect would be refused too.
    if (this.isOver() || this.leaving || this.participantId === undefined || code === 4001) return this.finish('failed', why);
    this.phase = 'reconnecting';
    this.view.status('Connection lost: reconnecting…');
    void this.reconnect(why);
  }

  private async reconnect(why: string): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; Date.now() - started < RECONNECT_FOR_MS; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 4000)));
      if (this.isOver()) return;
      let signaling: Signaling | undefined;
      try {
        signaling = await this.connect();
        const joined = await signaling.request<JoinResult>('join', { participantId: this.participantId });
        if (this.isOver()) return signaling.close();
        this.signaling = signaling;
        this.reconnects++;
        if (!joined.resumed) {
          // Our place was gone (the grace ran out, or we were removed meanwhile): we are a
          // new participant, and our media start over.
          this.media?.close();
          this.media = undefined;
          this.participantId = joined.participantId;
          this.state = undefined;
        }
        this.phase = joined.state === 'lobby' ? 'lobby' : 'joined';
        this.receive(joined.meeting);
        this.refresh();
        return;
      } catch (err) {
        signaling?.close();
        console.warn('reconnect attempt failed', err);
      }
    }
    this.finish('failed', why);
  }

  async inboundBytes(): Promise<Record<string, InboundBytes>> {
    return (await this.media?.inboundBytes()) ?? {};
  }

  async leave(): Promise<void> {
    this.leaving = true;
    try {
      await this.signaling?.request('leave');
    } catch (err) {
      // Also when the snapshot without us came first and we closed the socket: either way we are out.
      if (!this.isOver()) console.warn('leave was not acknowledged; closing the socket leaves too', err);
    }
    this.finish('left', 'You left the meeting.');
  }

  // What the buttons do. A refused request changes nothing on the server; it is shown and forgotten.
  setHand(raised: boolean): void { void this.act(() => this.request(raised ? 'raiseHand' : 'lowerHand')); }
  setMuted(muted: boolean): void { void this.act(async () => this.media?.setAudioPaused(muted)); }
  mute(participantId: string): void { void this.act(() => this.hostMute(participantId)); }
  admit(participantId: string): void { void this.act(() => this.request('admit', { participantId })); }
  muteAll(): void { void this.act(() => this.request('muteAll')); }
  setLocked(locked: boolean): void { void this.act(() => this.request(locked ? 'lock' : 'unlock')); }
  end(): void { void this.act(() => this.request('end')); }

  /** As the Mute button of a participant, but a refusal rejects (for the tests' handle). */
  hostMute(participantId: string): Promise<void> {
    return this.request('mute', { participantId });
  }

  private async request(action: string, params: Record<string, unknown> = {}): Promise<void> {
    if (!this.signaling) throw new Error('not connected');
    await this.signaling.request(action, params);
  }

  private async act(task: () => Promise<unknown>): Promise<void> {
    try {
      await task();
    } catch (err) {
      this.view.status(`Refused: ${(err as Error).message}`);
    }
  }

  private receive(state: MeetingState): void {
    if (this.isOver() || (this.state && state.version <= this.state.version)) return;
    this.state = state;
    this.refresh();
  }

  /** The server sends a delta only to a client that has the state it follows; anything else is stale. */
  private receiveDelta(delta: MeetingDelta): void {
    if (this.isOver() || !this.state || delta.after !== this.state.version) return;
    this.state = withDelta(this.state, delta);
    this.refresh();
  }

  private refresh(): void {
    // Drawn and acted on once the join reply names us and the device is loaded.
    if (!this.state || this.participantId === undefined || !this.device) return;
    this.view.render(this.state, this.participantId, this);
    this.schedule();
  }

  private schedule(): void {
    this.queue = this.queue
      .then(() => this.reconcile())
      .catch((err: Error) => {
        console.error(err);
        this.view.status(`Media problem: ${err.message}`);
      });
  }

  private async reconcile(): Promise<void> {
    const state = this.state;
    const selfId = this.participantId;
    if (!state || !selfId || this.isOver()) return;
    if (state.meeting.state === 'ended') return this.finish('ended', 'The meeting has ended.');
    const self = state.participants.find((p) => p.id === selfId);
    if (!self) return this.leaving ? this.finish('left', 'You left the meeting.') : this.finish('expelled', 'You were removed from the meeting.');
    if (self.state === 'lobby') {
      this.phase = 'lobby';
      this.view.status('Waiting in the lobby until the host lets you in…');
      return;
    }
    if (this.media && self.mediaEpoch > this.media.epoch) {
      // Our media was moved to another worker: every transport, producer and consumer id we had is gone.
      this.view.status('Reconnecting media…');
      this.media.close();
      this.media = undefined;
    }
    if (!this.media) await this.startMedia(self);
    if (self.muted) this.media!.pauseAudioLocally();
    this.phase = 'joined';
    this.view.status(`In the meeting (${state.participants.filter((p) => p.state === 'joined').length} here)`);
    await this.media!.sync(this.state!, selfId);
  }

  private async startMedia(self: Participant): Promise<void> {
    if (!this.local) {
      this.local = await localMedia();
      this.view.videos.showSelf(this.local, self.displayName);
    }
    // Sent only now: a participant in the lobby may not send it (403 MEETING_IN_LOBBY); sent again after a move, harmlessly.
    await this.signaling!.request('setRtpCapabilities', { rtpCapabilities: this.device!.rtpCapabilities });
    const media = new MediaSession(this.requester, this.device!, self.mediaEpoch, {
      onTrack: ({ participantId, track }) => this.view.videos.addTrack(participantId, this.nameOf(participantId), track),
      onTrackEnded: ({ participantId, track }) => this.view.videos.removeTrack(participantId, track),
    });
    this.media = media;
    try {
      await media.start(this.local, self.muted);
    } catch (err) {
      // Half set up is no use: the next snapshot starts over.
      media.close();
      this.media = undefined;
      throw err;
    }
  }

  private nameOf(participantId: string): string {
    return this.state?.participants.find((p) => p.id === participantId)?.displayName ?? '…';
  }

  private isOver(): boolean {
    // 'reconnecting' is not over: the page is on its way back.
    return this.phase === 'left' || this.phase === 'ended' || this.phase === 'expelled' || this.phase === 'failed';
  }

  private finish(phase: Phase, reason: string): void {
    if (this.isOver()) return;
    this.phase = phase;
    this.reason = reason;
    this.media?.close();
    this.media = undefined;
    for (const track of this.local?.getTracks() ?? []) track.stop();
    this.signaling?.close();
    this.view.closeMeeting();
    this.view.status(reason);
  }
}

/** Camera and microphone, or whichever of them exists: a page without a camera still takes part. */
async function localMedia(): Promise<MediaStream> {
  for (const constraints of [{ audio: true, video: { width: 640, height: 480 } }, { audio: true }, { video: true }]) {
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch (err) {
      console.warn('getUserMedia failed', constraints, err);
    }
  }
  return new MediaStream();
}
