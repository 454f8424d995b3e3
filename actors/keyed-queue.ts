/**
 * Runs tasks one at a time per key, in arrival order; different keys run concurrently.
 * This is how a room actor serializes the writes of one room without a global lock.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  private queued = 0;
  private readonly changed: (queue: KeyedQueue) => void;

  /** `changed` hears every task queued and every task done (e.g. to show the depth as a gauge). */
  constructor(changed: (queue: KeyedQueue) => void = () => undefined) {
    this.changed = changed;
  }

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    this.queued++;
    this.changed(this);
    // Forget the key once nothing is queued behind this task, so idle rooms cost nothing.
    tail.then(() => {
      this.queued--;
      if (this.tails.get(key) === tail) this.tails.delete(key);
      this.changed(this);
    });
    return result;
  }

  /** Keys with a task queued or running. */
  get size(): number {
    return this.tails.size;
  }

  /** Tasks queued or running, over every key. */
  get depth(): number {
    return this.queued;
  }
}
