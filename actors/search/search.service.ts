// The `search` actor: keeps the message index in step with the rooms' activities. It is
// fed by the rooms actor's `rooms.activities` event after each commit, so the index may
// lag a moment and is never the source of truth.
import type { Context, ServiceSchema } from 'moleculer';
import type { SearchIndex } from '../../storage/interfaces.ts';
import type { Activity } from '../../storage/records.ts';

export function createSearchService({ index }: { index: SearchIndex }): ServiceSchema {
  return {
    name: 'search',
    events: {
      'rooms.activities': {
        async handler(ctx: Context<{ activities: Activity[] }>) {
          const indexed = [];
          for (const activity of ctx.params.activities) {
            const data = activity.data as { id: string; roomId: string; personId: string; text?: string; markdown?: string; created: string };
            switch (activity.event) {
              case 'message.created':
              case 'message.updated':
                indexed.push({ id: data.id, roomId: data.roomId, personId: data.personId, text: data.text ?? data.markdown ?? '', created: data.created });
                break;
              case 'message.deleted':
                await index.removeMessage(data.id);
                break;
              case 'room.deleted':
                await index.removeRoom(activity.roomId);
                break;
              default:
                break;
            }
          }
          try {
            await index.indexMessages(indexed);
          } catch (err) {
            // The rooms store holds the truth; a lagging index is repaired by re-indexing.
            this.logger.warn({ err, count: indexed.length }, 'indexing messages failed');
          }
        },
      },
    },
  };
}
