// The topology of a Squared work queue on RabbitMQ — queue names, their arguments, the
// headers a job carries between attempts — and how a job is encoded. The design is
// described at the top of work-queue.ts.
import type { QueueOptions } from '../interfaces.ts';

export const ATTEMPT_HEADER = 'x-squared-attempt';
/** How many times the job was deferred (DeferJobError): its next deferral waits longer. */
export const DEFERS_HEADER = 'x-squared-defers';
export const ATTEMPTS_HEADER = 'x-squared-attempts';
export const ERROR_HEADER = 'x-squared-error';

/** Longest error text kept in a dead letter's header (headers share the frame size limit). */
export const MAX_ERROR_CHARS = 4000;

export const deadQueueName = (queue: string) => `${queue}.dead`;
export const delayQueueName = (queue: string, delayMs: number) => `${queue}.delay.${delayMs}`;
export const retryDelayMs = (options: QueueOptions, attempt: number) => Math.round(options.backoffMs * 2 ** (attempt - 1));

export interface QueueArgs {
  durable: true;
  arguments?: Record<string, unknown>;
}

/** The work queue and its dead letters. */
export const mainQueueArgs = (): QueueArgs => ({ durable: true });

/** A delay queue: every message waits `delayMs`, then flows back into the work queue. */
export const delayQueueArgs = (queue: string, delayMs: number): QueueArgs =>
  ({ durable: true, arguments: { 'x-message-ttl': delayMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue } });

export function serializeJob(job: unknown): Buffer {
  const json = JSON.stringify(job);
  if (json === undefined) throw new TypeError('a job must be JSON-serializable (got undefined, a function or a symbol)');
  return Buffer.from(json, 'utf8');
}

export function parseJob(content: Buffer): { ok: true; job: unknown } | { ok: false; raw: string } {
  const raw = content.toString('utf8');
  try {
    return { ok: true, job: JSON.parse(raw) };
  } catch {
    return { ok: false, raw };
  }
}
