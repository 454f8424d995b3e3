// How long a deferred job (DeferJobError) waits before it comes back, shared by every
// WorkQueue adapter. A fixed wait would cost a slow target with N queued jobs N claims and
// writes per wait, for as long as it stays slow; so the wait doubles with each deferral of
// the same job, up to a cap, and carries jitter so that jobs deferred together do not all
// come back together. The jitter is in a few steps (×1, ×1.25, ×1.5) rather than continuous:
// RabbitMQ keeps one delay queue per distinct wait, and this bounds how many there are.

/** The wait stops doubling after this many deferrals (base × 64). */
export const MAX_DEFER_DOUBLINGS = 6;
const JITTER_STEPS = 3;

/** The wait before the `defers`-th deferral (1 for the first) of a job comes back: base × 2^(defers−1), capped, × 1 to 1.5. */
export function deferDelayMs(baseMs: number, defers: number, random: () => number = Math.random): number {
  const doublings = Math.min(Math.max(1, defers) - 1, MAX_DEFER_DOUBLINGS);
  const step = Math.min(JITTER_STEPS - 1, Math.floor(random() * JITTER_STEPS));
  return Math.round(baseMs * 2 ** doublings * (1 + step / (2 * (JITTER_STEPS - 1))));
}
