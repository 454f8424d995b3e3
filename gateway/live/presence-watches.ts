// The people one live session watches the presence of (docs/live-protocol.md, Presence):
// a `presence.subscribe` replaces the list; only people who share a room with the session's
// person (the rooms actor says who, at subscription, and again after anyone leaves a room
// the session follows, and at the session's periodic check) or the person themselves are watched;
// each gets a `presence` frame with their current status at once, then one per real change,
// from the fan-out topic of the watched person (so a change costs its watchers, never the
// rooms or the organization of the person).
import type { PresenceView } from '../../contracts/live-frames.ts';
import type { SessionLink } from './live-session-host.ts';

/** People one socket may watch at once (a client shows this many people at most). */
export const MAX_PRESENCE_WATCHES = 500;

export const presenceFrame = (personId: string, view: PresenceView): string =>
  JSON.stringify({ type: 'presence', personId, status: view.status, ...(view.lastActivity ? { lastActivity: view.lastActivity } : {}) });

export class PresenceWatches {
  private readonly watched = new Set<string>();
  /** People whose live frame reached the session since the last subscription began. */
  private heardLive = new Set<string>();
  /** Counts subscriptions, so that an older one answered late changes nothing. */
  private generation = 0;
  private recheckTimer: NodeJS.Timeout | undefined;
  private readonly link: SessionLink;

  constructor(link: SessionLink) {
    this.link = link;
  }

  /** Replaces the watched people with those of `personIds` the person may watch, and sends their current statuses. */
  async subscribe(personIds: string[]): Promise<void> {
    const { host, session } = this.link;
    const caller = this.link.caller()!;
    const generation = ++this.generation;
    const wanted = [...new Set(personIds)];
    const others = wanted.filter((id) => id !== caller.id);
    const sharing = new Set(others.length > 0 ? await host.peopleSharingRooms(caller.id, others) : []);
    if (generation !== this.generation || this.link.phase() !== 'open') return;
    const allowed = wanted.filter((id) => id === caller.id || sharing.has(id));
    const keep = new Set(allowed);
    for (const id of this.watched) if (!keep.has(id)) host.unwatchPresence(session, id);
    this.heardLive = new Set();
    for (const id of allowed) if (!this.watched.has(id)) host.watchPresence(session, id);
    this.watched.clear();
    for (const id of allowed) this.watched.add(id);
    const refused = wanted.filter((id) => !keep.has(id));
    if (refused.length > 0) this.link.send({ type: 'error', message: `Presence is shown only of people who share a room with you; not of: ${refused.join(', ')}.` });
    if (allowed.length === 0) return;
    // Read after the subscription is in place: a change published since reaches the session live.
    const statuses = await host.presenceStatuses(allowed);
    if (generation !== this.generation || this.link.phase() !== 'open') return;
    for (const id of allowed) {
      const view = statuses[id];
      // A live frame that arrived meanwhile is newer than this read.
      if (view && !this.heardLive.has(id)) this.link.socket.send(presenceFrame(id, view));
    }
  }

  /**
   * Drops the watched people who no longer share a room with the session's person (they, or
   * the person, left the last room they shared). Asked after departures, a moment later so
   * that a burst of them costs one question, and at the session's periodic check.
   */
  recheckSoon(delayMs = 250): void {
    if (this.recheckTimer || this.watched.size === 0) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      this.recheck().catch((err: unknown) => this.link.host.logger.warn({ err, session: this.link.session }, 'presence watches could not be checked again'));
    }, delayMs);
    this.recheckTimer.unref?.();
  }

  async recheck(): Promise<void> {
    const { host, session } = this.link;
    const caller = this.link.caller();
    if (!caller || this.link.phase() !== 'open') return;
    const generation = this.generation;
    const others = [...this.watched].filter((id) => id !== caller.id);
    if (others.length === 0) return;
    const sharing = new Set(await host.peopleSharingRooms(caller.id, others));
    // a subscription made meanwhile decided with newer answers
    if (generation !== this.generation || this.link.phase() !== 'open') return;
    for (const id of others) {
      if (sharing.has(id)) continue;
      host.unwatchPresence(session, id);
      this.watched.delete(id);
    }
  }

  /** A change of a watched person, from the fan-out (serialized once per gateway). */
  offer(personId: string, frame: string): void {
    if (this.link.phase() !== 'open' || !this.watched.has(personId)) return;
    this.heardLive.add(personId);
    this.link.socket.send(frame);
  }

  release(): void {
    clearTimeout(this.recheckTimer);
    this.recheckTimer = undefined;
    for (const id of this.watched) this.link.host.unwatchPresence(this.link.session, id);
    this.watched.clear();
    this.generation++;
  }
}
