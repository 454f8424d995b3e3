// The `search` actor: keeps the message index in step with the rooms' activities. It is
// fed by the rooms actor's `rooms.activities` event after each commit and follows each
// room's log from a checkpoint (index-follower.ts), so the index may lag a moment, catches
// up after an outage or a lost event, and is never the source of truth: `rebuild` makes it
// again from the rooms' messages as they are (after a restore or a lost index).
import type { Context, ServiceBroker, ServiceSchema } from 'moleculer';
import { METRIC, type MetricSink } from '../../contracts/metrics.ts';
import { ownerOf } from '../../routing/owner-strategy.ts';
import type { IndexedMessage, SearchIndex } from '../../storage/interfaces.ts';
import { indexedMessageOf, type Activity, type MessageRecord } from '../../storage/records.ts';
import { KeyedQueue } from '../keyed-queue.ts';
import { roomLogReader } from '../room-log-reader.ts';
import { IndexFollower } from './index-follower.ts';
import { searchActions } from './search-actions.ts';

/** Who a rebuild calls the rooms actor through: an action's context, or the broker (at start). */
type Caller = Pick<ServiceBroker, 'call'>;

/** Rooms and messages read per call to the rooms actor during a rebuild. */
const PAGE = 500;
/** Rooms whose organization the search actor remembers. */
const MAX_ORGS_CACHED = 10_000;
/** Any rooms action routes to the room's owner: the node that sweeps its index too. */
const ROOM_OWNER_ACTION = 'rooms.createMessage';

export interface SearchSettings {
  /** Seconds between two sweeps comparing every owned room's head with its checkpoint. */
  sweepSeconds: number;
}

export function createSearchService({ index, settings = { sweepSeconds: 60 } }: { index: SearchIndex; settings?: SearchSettings }): ServiceSchema {
  // One room at a time in this process: a rebuild of a room and the events of that room never
  // interleave here. Across search nodes (an event heard by one while another rebuilds) the
  // index's versions order the writes instead: every write carries the room seq it is as new as.
  const rooms = new KeyedQueue();
  /** This node's broker, once started. */
  let node: ServiceBroker | undefined;
  /** Each room's organization, asked once (a room never changes hands); bounded, oldest dropped first. */
  const orgs = new Map<string, string | undefined>();
  async function orgOfRoom(roomId: string): Promise<string | undefined> {
    if (orgs.has(roomId)) return orgs.get(roomId);
    const orgId = (await node!.call<string | null, object>('rooms.orgOfRoom', { roomId })) ?? undefined;
    if (orgs.size >= MAX_ORGS_CACHED) orgs.delete(orgs.keys().next().value!);
    orgs.set(roomId, orgId);
    return orgId;
  }

  /** One room's activities into the index, in order; throws when the index refused them (the follower catches up later). */
  async function apply(activities: Activity[]): Promise<void> {
    const indexed: IndexedMessage[] = [];
    const orgId = activities.some((a) => a.event === 'message.created' || a.event === 'message.updated') ? await orgOfRoom(activities[0].roomId) : undefined;
    for (const activity of activities) {
      const data = activity.data as unknown as MessageRecord;
      switch (activity.event) {
        case 'message.created':
          indexed.push(indexedMessageOf(data, activity.seq, activity.seq, orgId));
          break;
        case 'message.updated':
          // Logs written before activities said it: the edit's seq, later than the true one,
          // so a former member finds less rather than more.
          indexed.push(indexedMessageOf(data, activity.seq, activity.messageSeq ?? activity.seq, orgId));
          break;
        case 'message.deleted':
          await index.removeMessage(data.id, activity.seq);
          break;
        case 'room.deleted':
          await index.removeRoom(activity.roomId, activity.seq);
          break;
        default:
          break;
      }
    }
    await index.indexMessages(indexed);
  }
  let follower: IndexFollower | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;

  /**
   * The room's entries as old as its first page are dropped, then its messages as they are now
   * indexed again. Each page's messages carry the room head read before the page (as new as
   * that, at least), so whatever another node indexes or removes meanwhile from a newer event wins.
   */
  async function rebuildRoom(ctx: Caller, roomId: string): Promise<number> {
    return rooms.run(roomId, async () => {
      let count = 0;
      let head = 0;
      for (let beforeSeq: number | undefined, first = true; first || beforeSeq !== undefined; first = false) {
        const page = await ctx.call<{ items: IndexedMessage[]; head: number; beforeSeq?: number }, object>('rooms.operatorMessages', { roomId, max: PAGE, beforeSeq });
        // messages deleted before the first page was read are in no page: the removal drops them
        if (first) {
          await index.removeRoom(roomId, page.head);
          head = page.head;
        }
        await index.indexMessages(page.items);
        count += page.items.length;
        beforeSeq = page.beforeSeq;
      }
      follower?.rebuilt(roomId, head);
      return count;
    });
  }

  /** Every room again, a page of rooms at a time. */
  async function rebuildAll(ctx: Caller): Promise<{ rooms: number; messages: number; ms: number }> {
    const started = Date.now();
    let roomCount = 0;
    let messageCount = 0;
    for (let after: string | undefined, first = true; first || after !== undefined; first = false) {
      const page = await ctx.call<{ items: string[]; next?: string }, object>('rooms.operatorRoomIds', { max: PAGE, ...(after ? { after } : {}) });
      for (const roomId of page.items) messageCount += await rebuildRoom(ctx, roomId);
      roomCount += page.items.length;
      after = page.next;
    }
    await index.refresh();
    return { rooms: roomCount, messages: messageCount, ms: Date.now() - started };
  }

  return {
    name: 'search',
    actions: {
      ...searchActions(index, (roomIds) => follower!.lagOf(roomIds)),
      /** Operators (`reindex` in the console): the whole index again, room by room. */
      rebuild: {
        visibility: 'public',
        handler: (ctx: Context) => rebuildAll(ctx),
      },
    },
    started() {
      const broker = this.broker;
      node = broker;
      const logger = this.logger;
      const metrics: MetricSink = broker.metrics;
      follower = new IndexFollower({
        index, rooms, apply, log: roomLogReader(broker),
        owns: (roomId) => ownerOf(broker, ROOM_OWNER_ACTION, { roomId }) === broker.nodeID,
        warn: (err, message, fields) => logger.warn({ err, ...fields }, message),
        onBehind: (count) => metrics.set(METRIC.searchRoomsBehind, count),
      });
      const sweep = () => void follower!.sweep();
      sweepTimer = setInterval(sweep, settings.sweepSeconds * 1000);
      sweepTimer.unref();
      void (async () => {
        await broker.waitForServices(['rooms']);
        if (index.wantsRebuild) {
          // A new (or remade) index next to rooms that may hold messages: filled in the
          // background; searches meanwhile find what is indexed so far.
          logger.info('the search index is new: filling it from the rooms');
          logger.info(await rebuildAll(broker), 'the search index is filled');
        }
        // What was committed while no search node was listening (a restart, a lost event).
        await follower!.sweep();
      })().catch((err: unknown) => logger.error({ err }, 'filling the new search index failed: run `npm run reindex`'));
    },
    async stopped() {
      clearInterval(sweepTimer);
      follower?.stop();
      await follower?.flush();
    },
    events: {
      /** A node was lost: the rooms it owned may be this node's now, with announcements it never applied. */
      '$node.disconnected': {
        handler(ctx: Context<{ unexpected?: boolean }>) {
          if (ctx.params.unexpected) void follower?.sweep();
        },
      },
      'rooms.activities': {
        async handler(ctx: Context<{ activities: Activity[] }>) {
          // One commit's activities are one room's; grouped anyway, so that no room's order depends on it.
          const byRoom = new Map<string, Activity[]>();
          for (const activity of ctx.params.activities) byRoom.set(activity.roomId, [...(byRoom.get(activity.roomId) ?? []), activity]);
          await Promise.all([...byRoom].map(([roomId, activities]) => follower!.announced(roomId, activities)));
        },
      },
    },
  };
}
