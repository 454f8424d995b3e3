// The `attachmentActions` actor: card submissions (Webex attachment actions). A kind of data
// of its own, so an actor of its own: an action is no change to its room (no activity, no
// seq, nothing the room's members see), it is written by the card's reader and read by two
// people only — who submitted it and who posted the card — and it outlives nothing of the
// room's state it would have to be kept in step with. The rooms actor is asked, as the
// caller, for the card's message: that is the membership check (a non-member gets its 404).
import type { Context, ServiceSchema } from 'moleculer';
import { callerOf } from '../../contracts/caller.ts';
import { badRequest, notFound } from '../../contracts/errors.ts';
import { idKind, newId } from '../../contracts/ids.ts';
import { RESOURCE_EVENTS, type ResourceEvent } from '../../contracts/resource-events.ts';
import type { AttachmentActionRecord, AttachmentActionStore } from '../../storage/attachment-action-store.ts';
import * as p from '../params.ts';
import { withValues } from '../present.ts';

/** A card's inputs, as JSON: as much as the card itself may hold (actors/rooms/card-attachments.ts). */
export const MAX_INPUTS_BYTES = 16 * 1024;

interface CardMessage {
  id: string;
  roomId: string;
  personId: string;
  attachments?: unknown[];
}

export function presentAttachmentAction(a: AttachmentActionRecord): Record<string, unknown> {
  return withValues({ id: a.id, type: a.type, messageId: a.messageId, inputs: a.inputs, personId: a.personId, roomId: a.roomId, created: a.created });
}

/** The webhook event: Webex's `data` holds the ids, never the inputs (they are read with GET). */
function createdEvent(a: AttachmentActionRecord): ResourceEvent {
  return {
    resource: 'attachmentActions', event: 'created', actorId: a.personId, roomId: a.roomId, audience: [a.messageAuthorId], created: a.created,
    data: { id: a.id, type: a.type, messageId: a.messageId, personId: a.personId, roomId: a.roomId, created: a.created },
  };
}

export function createAttachmentActionsService({ store }: { store: AttachmentActionStore }): ServiceSchema {
  return {
    name: 'attachmentActions',
    actions: {
      create: {
        visibility: 'published',
        params: { type: { type: 'equal', value: 'submit' }, messageId: p.id, inputs: { type: 'object' } },
        async handler(ctx: Context<{ type: 'submit'; messageId: string; inputs: Record<string, unknown> }>) {
          const caller = callerOf(ctx);
          const { messageId, inputs } = ctx.params;
          if (Buffer.byteLength(JSON.stringify(inputs)) > MAX_INPUTS_BYTES) throw badRequest(`An attachment action's inputs may hold at most ${MAX_INPUTS_BYTES} bytes of JSON.`);
          // As the caller: 404 unless they are a member of the message's room.
          const message = await ctx.call<CardMessage, { messageId: string }>('rooms.getMessage', { messageId });
          if (!message.attachments?.length) throw badRequest('The message has no attachments to act on.');
          const action: AttachmentActionRecord = {
            id: newId('ATTACHMENT_ACTION'), type: 'submit', messageId: message.id, roomId: message.roomId, messageAuthorId: message.personId,
            personId: caller.id, inputs, created: new Date().toISOString(),
          };
          await store.put(action);
          // Announced once durable, balanced: one notifications instance hears it.
          void ctx.emit(RESOURCE_EVENTS, { events: [createdEvent(action)] });
          return presentAttachmentAction(action);
        },
      },
      get: {
        visibility: 'published',
        params: { id: p.id },
        async handler(ctx: Context<{ id: string }>) {
          const caller = callerOf(ctx);
          const action = idKind(ctx.params.id) === 'ATTACHMENT_ACTION' ? await store.get(ctx.params.id) : undefined;
          // Who submitted it and who posted the card read it; to anyone else it does not exist.
          if (!action || (caller.id !== action.personId && caller.id !== action.messageAuthorId)) throw notFound('Attachment action not found.');
          return presentAttachmentAction(action);
        },
      },
    },
  };
}
