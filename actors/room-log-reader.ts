// The room outbox's view of the rooms actor's log: its internal operator actions
// (actors/rooms/operator-actions.ts), called through the broker as any actor talks to another.
import type { ServiceBroker } from 'moleculer';
import type { Activity } from '../../storage/records.ts';
import type { RoomLogReader } from './room-outbox.ts';

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
