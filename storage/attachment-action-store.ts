// The attachment actions (card submissions) of the `attachmentActions` actor: their records
// and the store that keeps them.

export interface AttachmentActionRecord {
  id: string;
  type: 'submit';
  /** The card's message, its room, and that message's author (who may read the action too). */
  messageId: string;
  roomId: string;
  messageAuthorId: string;
  /** Who submitted the card. */
  personId: string;
  inputs: Record<string, unknown>;
  created: string;
}

/**
 * Attachment actions by id. An action is written once and never changed, so `put` needs no
 * condition; it is durable when it returns (the actor answers and announces it only then).
 */
export interface AttachmentActionStore {
  put(action: AttachmentActionRecord): Promise<void>;
  get(id: string): Promise<AttachmentActionRecord | undefined>;
  close(): Promise<void>;
}
