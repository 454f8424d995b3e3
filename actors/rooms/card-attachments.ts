// A message's attachments: Adaptive Cards, the only kind Webex accepts in `attachments`.
// Checked here (the actor's own rule, after fastest-validator's shape check) and stored with
// the message, so that GET and list answer them as the create did.
import { badRequest } from '../../contracts/errors.ts';
import type { CardAttachment } from '../../storage/records.ts';

export const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';

/**
 * Webex takes one attachment per message. It publishes no byte limit for a card: Squared
 * takes 16 KiB of card JSON, ample for a card of five buttons and its inputs, and small
 * enough that a card never weighs on the room's log, its replicas and live frames.
 */
export const MAX_ATTACHMENTS = 1;
export const MAX_CARD_BYTES = 16 * 1024;

/** fastest-validator's part: an array of at most one `{contentType, content}` object. */
export const attachmentsParam = {
  type: 'array', optional: true, max: MAX_ATTACHMENTS,
  items: {
    type: 'object', strict: 'remove',
    props: { contentType: { type: 'equal', value: ADAPTIVE_CARD }, content: { type: 'object' } },
  },
} as const;

/** The attachments as stored: each card within the size limit, and an object, not an array. */
export function checkedAttachments(attachments: CardAttachment[] | undefined): CardAttachment[] | undefined {
  if (!attachments?.length) return undefined;
  for (const attachment of attachments) {
    if (Array.isArray(attachment.content)) throw badRequest('An attachment\'s content must be an Adaptive Card object.');
    if (Buffer.byteLength(JSON.stringify(attachment.content)) > MAX_CARD_BYTES) throw badRequest(`An attachment's card may hold at most ${MAX_CARD_BYTES} bytes of JSON.`);
  }
  return attachments.map(({ contentType, content }) => ({ contentType, content }));
}
