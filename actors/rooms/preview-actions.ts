// The rooms actor's side of file previews: the files actor reports a preview's outcome, and
// the message, owned here, records it and announces a `message.updated` through the room's
// log (sequence, live sockets, webhooks: the normal path of every change of a message).
//
// Not an edit (a decision, docs/previews.md): the person did nothing, so `updated` and the
// edit count stay as they were (Webex sets `updated` only when the contents changed, and
// counts edits against its limits), and the activity's actor is the message's author. A
// report that changes nothing (a job redone after its node died) writes and announces
// nothing: the preview appears once.
import { isDeepStrictEqual } from 'node:util';
import type { Context } from 'moleculer';
import * as p from '../params.ts';
import type { MessageFilePreview } from '../../storage/records.ts';
import { presentMessage } from './presenters.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

export function previewActions(rc: RoomsContext): RoomsActions {
  return {
    /** Internal (the files actor): answers whether the message still carries the file. */
    recordFilePreview: {
      visibility: 'public',
      params: { roomId: p.id, messageId: p.id, preview: { type: 'object', props: { contentId: p.id }, strict: false } },
      async handler(ctx: Context<{ roomId: string; messageId: string; preview: MessageFilePreview }>) {
        const { roomId, messageId, preview } = ctx.params;
        return rc.log.append(roomId, async () => {
          const message = await rc.store.getMessage(messageId);
          const nothing = { activities: [], changes: [], result: false };
          if (!message || message.roomId !== roomId || !message.files?.some((url) => url.endsWith(`/contents/${preview.contentId}`))) return nothing;
          const others = (message.filePreviews ?? []).filter((known) => known.contentId !== preview.contentId);
          const known = message.filePreviews?.find((entry) => entry.contentId === preview.contentId);
          if (known && isDeepStrictEqual(known, preview)) return { ...nothing, result: true };
          const updated = { ...message, filePreviews: [...others, preview] };
          return {
            activities: [{ event: 'message.updated' as const, actorId: message.personId, messageSeq: updated.seq, data: presentMessage(updated) }],
            changes: [{ op: 'putMessage' as const, message: updated }],
            result: true,
          };
        });
      },
    },
  };
}
