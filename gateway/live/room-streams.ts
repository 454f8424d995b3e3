// The room streams of one live session: per room the last seq it has delivered (its
// cursor). Every activity passes `offer`: the next seq is sent, older ones are dropped, and
// a gap is filled from the room's log before anything newer goes out. The resume after a
// reconnect is the same gap fill, starting at the client's positions, so replay and live
// stream meet without a gap or a duplicate.
import { METRIC } from '../../contracts/metrics.ts';
import type { Activity } from '../../storage/records.ts';
import { eventFrame } from './live-protocol.ts';
import type { SessionLink } from './live-session-host.ts';

export class RoomStreams {
  private readonly cursors = new Map<string, number>();
  private readonly filling = new Set<string>();
  private readonly pending = new Map<string, Activity[]>();
  /** Rooms replayed only up to the person's departure: no live subscription. */
  private readonly departed = new Set<string>();
  private readonly link: SessionLink;
  /** Someone left a room this session follows (it may be the last room shared with a person it watches). */
  private readonly onDeparture: () => void;

  constructor(link: SessionLink, onDeparture: () => void = () => {}) {
    this.link = link;
    this.onDeparture = onDeparture;
  }

  /**
   * Follows the person's rooms: from the client's resume position when it gave one, from
   * the room's start for a room joined while away, else from the head. Rooms the client
   * resumes but no longer belongs to are replayed up to the departure. Answers the heads,
   * for the ready frame.
   */
  follow(rooms: { roomId: string; head: number; joinedSeq: number }[], resume: Record<string, number> | undefined): Record<string, number> {
    const { host, session } = this.link;
    const positions: Record<string, number> = {};
    for (const { roomId, head, joinedSeq } of rooms) {
      host.subscribeRoom(session, roomId);
      const resumed = resume?.[roomId];
      this.cursors.set(roomId, resumed !== undefined ? Math.min(resumed, head) : resume ? joinedSeq - 1 : head);
      positions[roomId] = head;
    }
    for (const [roomId, seq] of Object.entries(resume ?? {})) {
      if (this.cursors.has(roomId)) continue;
      this.cursors.set(roomId, seq);
      this.departed.add(roomId);
    }
    return positions;
  }

  /** Replays every followed room from its cursor: the resume. */
  replayAll(): Promise<void> {
    return this.fill([...this.cursors.keys()]);
  }

  /** An activity of a room this session is subscribed to, from the fan-out. */
  offer(activity: Activity, frame?: string): void {
    const phase = this.link.phase();
    if (phase !== 'open' && phase !== 'starting') return;
    const at = this.cursors.get(activity.roomId);
    if (at === undefined || activity.seq <= at) return;
    if (this.filling.has(activity.roomId) || phase === 'starting') {
      this.queue(activity);
      return;
    }
    if (activity.seq > at + 1) {
      this.queue(activity);
      void this.fill([activity.roomId]);
      return;
    }
    this.deliver(activity, frame, true);
  }

  /** One of this person's own membership changes: a room joined starts its stream here. */
  offerOwn(activity: Activity): void {
    if (activity.event === 'membership.created' && !this.cursors.has(activity.roomId) && this.link.phase() === 'open') {
      this.cursors.set(activity.roomId, activity.seq - 1);
      this.departed.delete(activity.roomId);
      this.link.host.subscribeRoom(this.link.session, activity.roomId);
    }
    this.offer(activity);
  }

  /**
   * The fan-out was interrupted (a reconnection): activities published meanwhile may never
   * arrive, and a quiet room would not show the gap until its next event. So every room is
   * brought up to its head from the log now.
   */
  catchUp(): void {
    if (this.link.phase() !== 'open') return;
    void this.fill([...this.cursors.keys()].filter((roomId) => !this.departed.has(roomId)));
  }

  /** Fills the rooms whose head is past what this session delivered. */
  async checkHeads(): Promise<void> {
    let rooms: { roomId: string; head: number }[];
    try {
      rooms = await this.link.host.liveRooms(this.link.session.personId!);
    } catch {
      return; // next time
    }
    if (this.link.phase() !== 'open') return;
    const behind = rooms.filter(({ roomId, head }) => {
      const at = this.cursors.get(roomId);
      return at !== undefined && at < head && !this.departed.has(roomId);
    });
    if (behind.length > 0) await this.fill(behind.map((r) => r.roomId));
  }

  /** Whether the person is a member of the room as this session knows it (it follows its live stream). */
  follows(roomId: string): boolean {
    return this.cursors.has(roomId) && !this.departed.has(roomId);
  }

  /** Positions delivered so far, for a resync or a reconnect hint. */
  positions(): Record<string, number> {
    return Object.fromEntries(this.cursors);
  }

  /** The session is gone: no room of it is followed any more. */
  release(): void {
    for (const roomId of this.cursors.keys()) this.link.host.unsubscribeRoom(this.link.session, roomId);
    this.cursors.clear();
    this.pending.clear();
  }

  private queue(activity: Activity): void {
    const list = this.pending.get(activity.roomId) ?? [];
    list.push(activity);
    this.pending.set(activity.roomId, list);
  }

  /** `live`: from the fan-out, not the log; only then is its age a commit-to-deliver latency (a replay's says how long the client was away). */
  private deliver(activity: Activity, frame?: string, live = false): void {
    if (this.isClosed()) return;
    const { socket, host, session } = this.link;
    if (socket.bufferedAmount() > host.maxBufferedBytes) return this.link.resync('backpressure');
    socket.send(frame ?? eventFrame(activity));
    host.metrics.increment(METRIC.deliveries);
    if (live) host.metrics.observe(METRIC.commitToDeliver, Math.max(0, Date.now() - Date.parse(activity.created)) / 1000);
    this.cursors.set(activity.roomId, activity.seq);
    const leaving = activity.event === 'room.deleted' || (activity.event === 'membership.deleted' && activity.data.personId === session.personId);
    if (leaving) this.leave(activity.roomId);
    if (activity.event === 'room.deleted' || activity.event === 'membership.deleted') this.onDeparture();
  }

  private leave(roomId: string): void {
    this.cursors.delete(roomId);
    this.pending.delete(roomId);
    this.departed.delete(roomId);
    this.link.host.unsubscribeRoom(this.link.session, roomId);
  }

  /** Replays the rooms' logs from their cursors until caught up, then flushes what queued meanwhile. */
  private async fill(roomIds: string[]): Promise<void> {
    // Rooms another fill is at are left to it: it delivers and releases them.
    const taken = roomIds.filter((roomId) => !this.filling.has(roomId));
    for (const roomId of taken) this.filling.add(roomId);
    let todo = taken;
    try {
      while (todo.length > 0 && !this.isClosed()) {
        const positions: Record<string, number> = {};
        for (const roomId of todo) positions[roomId] = this.cursors.get(roomId) ?? 0;
        const results = await this.link.host.replay(this.link.session.personId!, positions);
        const next: string[] = [];
        for (const roomId of todo) {
          const result = results[roomId];
          if (!result || this.isClosed()) continue;
          for (const activity of result.activities) {
            const at = this.cursors.get(roomId);
            if (at !== undefined && activity.seq > at) this.deliver(activity);
          }
          // Activities this person may not see are skipped over, not waited for.
          const at = this.cursors.get(roomId);
          if (at === undefined) continue;
          if (result.upTo > at) this.cursors.set(roomId, result.upTo);
          if (result.upTo < result.head) next.push(roomId);
        }
        todo = next;
      }
    } catch (err) {
      this.link.host.logger.warn({ err, session: this.link.session.id }, 'live replay failed');
      this.link.resync('unavailable');
      return;
    } finally {
      for (const roomId of taken) this.filling.delete(roomId);
    }
    for (const roomId of taken) {
      // A room replayed only up to a departure has nothing live to wait for.
      if (this.departed.has(roomId)) this.leave(roomId);
      const queued = this.pending.get(roomId);
      this.pending.delete(roomId);
      for (const activity of (queued ?? []).sort((a, b) => a.seq - b.seq)) this.offer(activity);
    }
  }

  private isClosed(): boolean {
    return this.link.phase() === 'closed';
  }
}
