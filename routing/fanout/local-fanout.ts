import type { Activity } from '../../storage/records.ts';
import type { Fanout, FanoutMessage } from './fanout.ts';

/** In-process fan-out for the embedded mode: a listener set per topic, called synchronously. */
export class LocalFanout implements Fanout {
  private readonly listeners = new Map<string, Set<(message: FanoutMessage) => void>>();

  publish(topic: string, message: FanoutMessage): void {
    const set = this.listeners.get(topic);
    if (!set) return;
    for (const listener of set) listener(message);
  }

  subscribe<T extends FanoutMessage = Activity>(topic: string, typed: (message: T) => void): () => void {
    const listener = typed as (message: FanoutMessage) => void;
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(topic) === set) this.listeners.delete(topic);
    };
  }

  /** In one process delivery is never interrupted. */
  onResumed(_listener: () => void): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
