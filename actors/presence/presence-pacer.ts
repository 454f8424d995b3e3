// The pace of one presence actor's `presence` publications: at most one per person per
// `minIntervalMs`, the latest status winning. A change inside the interval waits for its
// end, and is dropped then if the person is back to what was last published: a device that
// flaps costs its person's watchers nothing. Only the person's owner publishes (see
// presence-owner.ts), so this is the one pace of that person.
import type { PresenceView } from '../../contracts/live-frames.ts';

interface Paced {
  sent?: PresenceView;
  sentAt: number;
  pending?: PresenceView;
  timer?: NodeJS.Timeout;
}

export class PresencePacer {
  private readonly people = new Map<string, Paced>();
  private readonly minIntervalMs: number;
  private readonly publish: (personId: string, view: PresenceView) => void;

  constructor(minIntervalMs: number, publish: (personId: string, view: PresenceView) => void) {
    this.minIntervalMs = minIntervalMs;
    this.publish = publish;
  }

  /** The person's status is now `view` (a change of what their owner showed). */
  changed(personId: string, view: PresenceView, now = Date.now()): void {
    let paced = this.people.get(personId);
    if (!paced) this.people.set(personId, (paced = { sentAt: Number.NEGATIVE_INFINITY }));
    if (paced.timer) {
      paced.pending = view;
      return;
    }
    const wait = paced.sentAt + this.minIntervalMs - now;
    if (wait <= 0) return this.send(personId, paced, view, now);
    paced.pending = view;
    paced.timer = setTimeout(() => this.due(personId), wait);
    paced.timer.unref?.();
  }

  /** Forgets people whose last publication is older than the interval (nothing to pace). */
  prune(now = Date.now()): void {
    for (const [personId, paced] of this.people) if (!paced.timer && now - paced.sentAt >= this.minIntervalMs) this.people.delete(personId);
  }

  stop(): void {
    for (const paced of this.people.values()) clearTimeout(paced.timer);
    this.people.clear();
  }

  private due(personId: string): void {
    const paced = this.people.get(personId);
    if (!paced) return;
    paced.timer = undefined;
    const view = paced.pending;
    paced.pending = undefined;
    if (view && view.status !== paced.sent?.status) this.send(personId, paced, view, Date.now());
  }

  private send(personId: string, paced: Paced, view: PresenceView, now: number): void {
    paced.sent = view;
    paced.sentAt = now;
    this.publish(personId, view);
  }
}
