// What the actors that follow the rooms' logs read of them (the webhooks' outbox, the search
// index): the rooms actor's internal operator actions (actors/rooms/operator-actions.ts),
// called through the broker as any actor talks to another.
import type { ServiceBroker } from 'moleculer';
import type { Activity } from '../storage/records.ts';

/** The rooms, their heads and their activities, as a follower of the logs reads them. */
export interface RoomLogReader {
  roomIds(page: { max: number; after?: string }): Promise<{ items: string[]; next?: string }>;
  heads(roomIds: string[]): Promise<Map<string, number>>;
  /** afterSeq < seq <= uptoSeq, in order, possibly fewer than `max`; `upTo` is the last seq answered. */
  activities(roomId: string, afterSeq: number, uptoSeq: number, max: number): Promise<{ activities: Activity[]; upTo: number }>;
}


export function roomLogReader(broker: ServiceBroker): RoomLogReader {
  return {
    roomIds: (page) => broker.call('rooms.operatorRoomIds', page),
    async heads(roomIds) {
      const heads = await broker.call<Record<string, number>, object>('rooms.operatorHeads', { roomIds });
      return new Map(Object.entries(heads));
    },
    activities: (roomId, afterSeq, uptoSeq, max) =>
      broker.call<{ activities: Activity[]; upTo: number }, object>('rooms.operatorActivities', { roomId, afterSeq, uptoSeq, max }),
  };
}
