// Runtime validation of every frame a client sends on the live socket, and the encoding of
// the server's frames (the vocabulary itself is contracts/live-frames.ts).
import FastestValidator from 'fastest-validator';
import { SIGNALING_ACTIONS, type SignalingAction } from '../../contracts/signaling-vocabulary.ts';
import type { ClientFrame, ServerFrame } from '../../contracts/live-frames.ts';
import type { Activity } from '../../storage/records.ts';
import type { ReadReceipt } from '../../routing/fanout/fanout.ts';

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
  read: validator.compile({
    $$strict: true,
    type: { type: 'equal', value: 'read' },
    roomId: { type: 'string', min: 1, max: 200 },
    messageId: { type: 'string', min: 1, max: 200 },
  }),
  activity: validator.compile({ $$strict: true, type: { type: 'equal', value: 'activity' } }),
  'presence.subscribe': validator.compile({
    $$strict: true,
    type: { type: 'equal', value: 'presence.subscribe' },
    // A bound a little past MAX_PRESENCE_WATCHES, so that the session can say which bound it is.
    personIds: { type: 'array', max: 1000, items: { type: 'string', min: 1, max: 200 } },
  }),
  typing: validator.compile({
    $$strict: true,
    type: { type: 'equal', value: 'typing' },
    roomId: { type: 'string', min: 1, max: 200 },
    typing: { type: 'boolean', optional: true },
  }),
};

// mediasoup checks the insides of capabilities and parameters itself; ids are its UUIDs
// (or participant ids), so short strings.
const objectId = { type: 'string', min: 1, max: 100 } as const;
const mediaObject = { type: 'object' } as const;
const ARGUMENTS: Record<SignalingAction, Record<string, unknown>> = {
  join: { rtpCapabilities: { ...mediaObject, optional: true }, participantId: { ...objectId, optional: true } },
  setRtpCapabilities: { rtpCapabilities: mediaObject },
  createTransport: { direction: { type: 'enum', values: ['send', 'recv'] } },
  connectTransport: { transportId: objectId, dtlsParameters: mediaObject },
  restartIce: { transportId: objectId },
  // mediasoup-client sends appData with produce; Squared keeps none of it.
  produce: { transportId: objectId, kind: { type: 'enum', values: ['audio', 'video'] }, rtpParameters: mediaObject, appData: { type: 'object', optional: true } },
  consume: { transportId: objectId, producerId: objectId },
  resumeConsumer: { consumerId: objectId },
  pauseConsumer: { consumerId: objectId },
  pauseProducer: { producerId: objectId },
  resumeProducer: { producerId: objectId },
  closeProducer: { producerId: objectId },
  raiseHand: {}, lowerHand: {}, leave: {}, lock: {}, unlock: {}, end: {}, muteAll: {}, lowerHands: {},
  mute: { participantId: objectId },
  expel: { participantId: objectId },
  admit: { participantId: objectId },
};
const meetingChecks = Object.fromEntries(SIGNALING_ACTIONS.map((action) => [action, validator.compile({
  $$strict: true,
  type: { type: 'equal', value: 'meeting' },
  id: { type: 'string', min: 1, max: 64 },
  meetingId: { type: 'string', min: 1, max: 64 },
  action: { type: 'equal', value: action },
  ...ARGUMENTS[action],
})])) as unknown as Record<SignalingAction, (value: unknown) => true | { message: string }[]>;
const ACTIONS = new Set<string>(SIGNALING_ACTIONS);


/** The frame, or a message saying what is wrong with it (and the request id, when it had one). */
export function parseClientFrame(text: string): ClientFrame | { problem: string; requestId?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'Frames must be JSON.' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'Frames must be JSON objects.' };
  const type = (value as { type?: unknown }).type;
  if (type === 'meeting') {
    const { id, action } = value as { id?: unknown; action?: unknown };
    const requestId = typeof id === 'string' && id.length > 0 && id.length <= 64 ? id : undefined;
    if (typeof action !== 'string' || !ACTIONS.has(action)) return { problem: `Unknown meeting action ${JSON.stringify(action)}.`, requestId };
    const result = meetingChecks[action as SignalingAction](value);
    if (result !== true) return { problem: result.map((r) => r.message).join(' '), requestId };
    const { meetingId, appData: _, ...rest } = value as Record<string, unknown>;
    const { type: _t, id: _i, action: _a, ...args } = rest;
    return { type: 'meeting', id: requestId!, meetingId: meetingId as string, action: action as SignalingAction, args };
  }
  if (typeof type !== 'string' || !Object.hasOwn(checks, type)) return { problem: `Unknown frame type ${JSON.stringify(type)}.` };
  const result = checks[type as keyof typeof checks](value);
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

/** A read receipt's frame: with the reader's counts for the reader's own devices, without for the other members. */
export function readFrame(receipt: ReadReceipt, own: boolean): string {
  const frame: ServerFrame = {
    type: 'read', roomId: receipt.roomId, personId: receipt.personId, lastSeenId: receipt.messageId, lastSeenActivityDate: receipt.seenDate,
    ...(own ? { unreadCount: receipt.unreadCount, unreadMentionsCount: receipt.unreadMentionsCount } : {}),
  };
  return JSON.stringify(frame);
}
