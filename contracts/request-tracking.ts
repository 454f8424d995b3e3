// The trackingId of the request being served, carried through async calls so that every
// log line written while serving it names it (the logger's mixin reads it, see
// moleculer.config.ts). The gateway runs each request in it; a Moleculer middleware runs
// each local action and event handler in the trackingId of its call chain (`ctx.meta`),
// on whichever node the action runs.
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<string>();

/** Runs `task` (and everything it awaits) as part of the request `trackingId`. */
export function withTrackingId<T>(trackingId: string | undefined, task: () => T): T {
  return trackingId ? current.run(trackingId, task) : task();
}

/** The trackingId of the request being served here, if any. */
export function currentTrackingId(): string | undefined {
  return current.getStore();
}
