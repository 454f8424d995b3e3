// The rooms actor's room tabs (Webex RoomTab: a named https link pinned to a room). A tab is
// state of its room, like its members: every change is an activity on the room's log
// (`tab.created|updated|deleted`), committed with the tab, so live clients see it in order
// and a resume replays it. Members read a room's tabs; changing them follows the rule of
// changing the room (anyone in an unlocked room, moderators in a locked one, nobody in a
// read-only one). To anyone else a tab does not exist (404).
import type { Context } from 'moleculer';
import { callerOf } from '../../contracts/caller.ts';
import { badRequest, notFound } from '../../contracts/errors.ts';
import { idKind, newId } from '../../contracts/ids.ts';
import type { IdempotentRequest } from '../../contracts/idempotency.ts';
import type { RoomTabRecord } from '../../storage/records.ts';
import { idempotencyParam, keyedRequest } from '../idempotent-writes.ts';
import * as p from '../params.ts';
import { withValues } from '../present.ts';
import { mustBeAbleToManageRoom } from './policy.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

const displayName = { type: 'string', trim: true, min: 1, max: 256 } as const;
const contentUrl = { type: 'string', trim: true, min: 1, max: 2048 } as const;

export function presentTab(t: RoomTabRecord): Record<string, unknown> {
  return withValues({ id: t.id, roomId: t.roomId, roomType: t.roomType, displayName: t.displayName, contentUrl: t.contentUrl, creatorId: t.creatorId, created: t.created });
}

/** Webex takes only https links for a tab's content. */
function mustBeHttpsUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badRequest('contentUrl must be an https URL.');
  }
  if (url.protocol !== 'https:' || !url.hostname) throw badRequest('contentUrl must be an https URL.');
  return value;
}

export function tabActions(rc: RoomsContext): RoomsActions {
  const { store, log } = rc;

  /** The tab and its room, as a member sees them; 404 for a tab that is not there or not theirs to see. */
  const loadTabAsMember = async (ctx: Context, tabId: string) => {
    const tab = idKind(tabId) === 'ROOM_TAB' ? await store.getTab(tabId) : undefined;
    if (!tab) throw notFound('Room tab not found.');
    const { room, membership } = await rc.loadRoomAsMember(ctx, tab.roomId).catch(() => {
      throw notFound('Room tab not found.');
    });
    return { tab, room, membership };
  };

  return {
    createTab: {
      visibility: 'published',
      params: { roomId: p.id, displayName, contentUrl, idempotency: idempotencyParam },
      async handler(ctx: Context<{ roomId: string; displayName: string; contentUrl: string; idempotency?: IdempotentRequest }>) {
        const caller = callerOf(ctx);
        const { roomId, displayName: name } = ctx.params;
        const url = mustBeHttpsUrl(ctx.params.contentUrl);
        return log.append(roomId, async (_firstSeq, now) => {
          const { room, membership } = await rc.loadRoomAsMember(ctx, roomId);
          mustBeAbleToManageRoom(room, membership);
          const tab: RoomTabRecord = { id: newId('ROOM_TAB'), roomId: room.id, roomType: room.type, displayName: name, contentUrl: url, creatorId: caller.id, created: now };
          return { activities: [{ event: 'tab.created', actorId: caller.id, data: presentTab(tab) }], changes: [{ op: 'putTab', tab }], result: presentTab(tab) };
        }, keyedRequest(caller.id, ctx.params.idempotency));
      },
    },

    listTabs: {
      visibility: 'published',
      params: { roomId: p.id },
      async handler(ctx: Context<{ roomId: string }>) {
        await rc.loadRoomAsMember(ctx, ctx.params.roomId);
        return { items: (await store.listTabs(ctx.params.roomId)).map(presentTab) };
      },
    },

    getTab: {
      visibility: 'published',
      params: { tabId: p.id },
      async handler(ctx: Context<{ tabId: string }>) {
        return presentTab((await loadTabAsMember(ctx, ctx.params.tabId)).tab);
      },
    },

    updateTab: {
      visibility: 'published',
      // As in Webex, an update restates the room and both fields.
      params: { tabId: p.id, roomId: p.id, displayName, contentUrl },
      async handler(ctx: Context<{ tabId: string; roomId: string; displayName: string; contentUrl: string }>) {
        const caller = callerOf(ctx);
        const { tabId, roomId, displayName: name } = ctx.params;
        const url = mustBeHttpsUrl(ctx.params.contentUrl);
        const { tab: found } = await loadTabAsMember(ctx, tabId);
        if (found.roomId !== roomId) throw badRequest('The room tab is not in this room.');
        return log.append(found.roomId, async () => {
          // Read again in the room's queue: the tab may have changed or gone since.
          const { tab, room, membership } = await loadTabAsMember(ctx, tabId);
          mustBeAbleToManageRoom(room, membership);
          const updated: RoomTabRecord = { ...tab, displayName: name, contentUrl: url };
          return { activities: [{ event: 'tab.updated', actorId: caller.id, data: presentTab(updated) }], changes: [{ op: 'putTab', tab: updated }], result: presentTab(updated) };
        });
      },
    },

    removeTab: {
      visibility: 'published',
      params: { tabId: p.id },
      async handler(ctx: Context<{ tabId: string }>) {
        const caller = callerOf(ctx);
        const { tab: found } = await loadTabAsMember(ctx, ctx.params.tabId);
        await log.append(found.roomId, async () => {
          const { tab, room, membership } = await loadTabAsMember(ctx, ctx.params.tabId);
          mustBeAbleToManageRoom(room, membership);
          return { activities: [{ event: 'tab.deleted', actorId: caller.id, data: presentTab(tab) }], changes: [{ op: 'deleteTab', id: tab.id, roomId: tab.roomId }], result: null };
        });
        return null;
      },
    },
  };
}
