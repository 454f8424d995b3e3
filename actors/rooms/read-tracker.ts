// The upkeep of read positions by the room's writes: each runs after its commit, in the
// room's write queue (RoomWritePlan.after), so positions change in the room's order. A join
// starts a position at the room's present (what came before is history, not unread); a post
// reads the room up to the author's own message (Matrix and Slack do the same: the author's
// messages are never unread); a mention counts for the people it names, @all for every
// member; a deletion takes the message out of the counts of those who had not read it.
// Positions are derived state: a counter missed here (the node died after the commit) is
// put right at the member's next read, which recounts from the store's indexes.
import type { RoomStore } from '../../storage/interfaces.ts';
import { ALL_MENTIONED, mentionKeys, type MessageRecord, type ReadPosition } from '../../storage/records.ts';
import type { RoomLog } from './room-log.ts';
import { unreadCount } from './read-status.ts';

export type Warn = (err: unknown, message: string) => void;

export class ReadTracker {
  private readonly store: RoomStore;
  private readonly log: RoomLog;
  private readonly warn: Warn;

  constructor(store: RoomStore, log: RoomLog, warn: Warn) {
    this.store = store;
    this.log = log;
    this.warn = warn;
  }

  /** A member joined at `seq`, when the room had `messageCount` messages. */
  joined(roomId: string, personIds: { personId: string; seq: number }[], messageCount: number): () => Promise<void> {
    return this.guard('join', () => this.store.putReadPositions(personIds.map(({ personId, seq }) => ({ roomId, personId, seq, ord: messageCount, hidden: 0, mentions: 0 }))));
  }

  left(roomId: string, personId: string): () => Promise<void> {
    return this.guard('leave', () => this.store.deleteReadPositions(roomId, personId));
  }

  roomDeleted(roomId: string): () => Promise<void> {
    return this.guard('room deletion', () => this.store.deleteReadPositions(roomId));
  }

  posted(message: MessageRecord, messageCount: number): () => Promise<void> {
    return this.guard('post', async () => {
      const author: ReadPosition = {
        roomId: message.roomId, personId: message.personId, seq: message.seq, ord: message.ord ?? messageCount,
        messageId: message.id, seenDate: message.created, hidden: 0, mentions: 0,
      };
      const changed = [author];
      const keys = mentionKeys(message);
      if (keys.includes(ALL_MENTIONED)) {
        for (const position of await this.store.roomReadPositions(message.roomId)) {
          if (position.personId !== message.personId) changed.push({ ...position, mentions: position.mentions + 1 });
        }
      } else {
        for (const personId of new Set(keys)) {
          if (personId === message.personId) continue;
          const position = await this.store.getReadPosition(message.roomId, personId);
          if (position) changed.push({ ...position, mentions: position.mentions + 1 });
        }
      }
      // No receipt: every live member gets the message.created, which says as much (and a
      // receipt per post would double the room's fan-out).
      await this.store.putReadPositions(changed);
    });
  }

  deleted(message: MessageRecord): () => Promise<void> {
    return this.guard('message deletion', async () => {
      if (message.ord === undefined) return;
      const keys = mentionKeys(message);
      const everyone = keys.includes(ALL_MENTIONED);
      const changed: ReadPosition[] = [];
      for (const position of await this.store.roomReadPositions(message.roomId)) {
        if (position.ord >= message.ord || position.personId === message.personId) continue;
        const mentioned = everyone || keys.includes(position.personId);
        changed.push({ ...position, hidden: position.hidden + 1, mentions: Math.max(0, position.mentions - (mentioned ? 1 : 0)) });
      }
      await this.store.putReadPositions(changed);
    });
  }

  /** A member's position once they read up to `message`: its counters recounted from the store's indexes. */
  async readTo(message: MessageRecord, personId: string, current: ReadPosition | undefined): Promise<ReadPosition> {
    const ord = message.ord ?? current?.ord ?? 0;
    const [hidden, mentions] = await Promise.all([
      this.store.countDeletedAfter(message.roomId, ord),
      this.store.countMentionsAfter(message.roomId, personId, message.seq),
    ]);
    const position: ReadPosition = { roomId: message.roomId, personId, seq: message.seq, ord, messageId: message.id, seenDate: message.created, hidden, mentions };
    await this.store.putReadPositions([position]);
    return position;
  }

  receiptOf(position: ReadPosition, messageCount: number): void {
    this.log.publishReceipt({
      kind: 'read', roomId: position.roomId, personId: position.personId, messageId: position.messageId!, seq: position.seq,
      seenDate: position.seenDate!, unreadCount: unreadCount(messageCount, position), unreadMentionsCount: position.mentions,
    });
  }

  private guard(what: string, task: () => Promise<void>): () => Promise<void> {
    return () => task().catch((err: unknown) => this.warn(err, `read positions were not kept up to date after a ${what}`));
  }
}
