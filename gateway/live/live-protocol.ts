// The frames of the live sync protocol (docs/live-protocol.md), as discriminated unions,
// with runtime validation of every client frame.
import FastestValidator from 'fastest-validator';
import type { Activity } from '../../storage/records.ts';

export type ClientFrame =
  | { type: 'hello'; token: string; resume?: Record<string, number> }
  | { type: 'ping' };

export type ServerFrame =
  | { type: 'ready'; sessionId: string; personId: string; heartbeatSeconds: number; positions: Record<string, number> }
  | ({ type: 'event' } & Omit<Activity, 'subjectId'>)
  | { type: 'pong' }
  | { type: 'resync'; reason: 'backpressure' | 'unavailable'; positions: Record<string, number> }
  | { type: 'error'; message: string };

export const CLOSE_RESYNC = 4000;
export const CLOSE_UNAUTHORIZED = 4001;
export const CLOSE_GOING_AWAY = 1001;

// The package is CommonJS with an ES-style default export in its typings.
const Validator = ((FastestValidator as unknown as { default?: unknown }).default ?? FastestValidator) as unknown as new () => InstanceType<typeof FastestValidator.default>;
const validator = new Validator();
const checks = {
  hello: validator.compile({
    $$strict: true,
    type: { type: 'equal', value: 'hello' },
    token: { type: 'string', min: 1, max: 512 },
    resume: {
      type: 'record', optional: true,
      key: { type: 'string', min: 1, max: 200 },
      value: { type: 'number', integer: true, min: 0 },
    },
  }),
  ping: validator.compile({ $$strict: true, type: { type: 'equal', value: 'ping' } }),
};

/** The frame, or a message saying what is wrong with it. */
export function parseClientFrame(text: string): ClientFrame | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'Frames must be JSON.' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'Frames must be JSON objects.' };
  const type = (value as { type?: unknown }).type;
  if (type !== 'hello' && type !== 'ping') return { problem: `Unknown frame type ${JSON.stringify(type)}.` };
  const result = checks[type](value);
  if (result !== true) return { problem: (result as { message: string }[]).map((r) => r.message).join(' ') };
  return value as ClientFrame;
}

export function eventFrame(activity: Activity): string {
  const frame: ServerFrame = {
    type: 'event', roomId: activity.roomId, seq: activity.seq, event: activity.event,
    actorId: activity.actorId, created: activity.created, data: activity.data,
  };
  return JSON.stringify(frame);
}

export const serverFrame = (frame: ServerFrame) => JSON.stringify(frame);
