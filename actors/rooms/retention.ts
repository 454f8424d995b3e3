// Message retention (issue 13, docs/admin.md "Retention"): an organization's administrators
// set how many days messages are kept, per room type, and the rooms actor deletes older ones
// in the background. A room belongs to its creator's organization (Webex's rule).
//
// Each deletion is an ordinary `message.deleted` activity written through the room's log, so
// live clients, webhooks, the search index and the files actor (which releases the files)
// all learn of it as of any deletion; its actor is the administrator who set the policy.
// Bounded: a sweep deletes at most BATCH messages per room per write and SWEEP_BUDGET in
// all, then stops until the next sweep. Resumable: a sweep keeps no state but the messages
// that are left, so one cut short by a crash simply goes on at the next. Each node sweeps the
// rooms it owns (the owner is the room's one writer anyway). Every sweep that deleted
// messages of an org records one audit event for it (`people.recordAudit`).
import type { Context, ServiceBroker } from 'moleculer';
import { callerOf, isAdmin, type Caller } from '../../contracts/caller.ts';
import { forbidden } from '../../contracts/errors.ts';
import type { RetentionPolicy, RetentionStore } from '../../storage/retention-store.ts';
import type { PersonRecord } from '../../storage/records.ts';
import * as p from '../params.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';
import { presentDeletedMessage } from './presenters.ts';

const DAY_MS = 86_400_000;
/** Messages deleted in one write of a room (one commit, one publication). */
const BATCH = 100;
/** Messages deleted by one sweep of one node, in all. */
const SWEEP_BUDGET = 5000;
const ROOM_PAGE = 500;
const MAX_DAYS = 36_500;

const days = { type: 'number', integer: true, min: 1, max: MAX_DAYS, optional: true, nullable: true } as const;

function present(policy: RetentionPolicy | undefined, orgId: string) {
  return { orgId, directDays: policy?.directDays ?? null, groupDays: policy?.groupDays ?? null, ...(policy ? { updated: policy.updated, updatedBy: policy.updatedBy } : {}) };
}

function mustAdminister(caller: Caller, orgId: string): void {
  if (!isAdmin(caller)) throw forbidden('Only an administrator may see or set the retention policy of the organization.');
  if (orgId !== caller.orgId) throw forbidden('The retention policy of another organization is not yours to see or set.');
}

/** `GET` / `PUT /v1/organizations/{orgId}/retention` (a Squared extension). */
export function retentionActions(retention: RetentionStore): RoomsActions {
  return {
    retentionPolicy: {
      visibility: 'published',
      params: { orgId: p.id },
      async handler(ctx: Context<{ orgId: string }>) {
        mustAdminister(callerOf(ctx), ctx.params.orgId);
        return present(await retention.get(ctx.params.orgId), ctx.params.orgId);
      },
    },
    setRetentionPolicy: {
      visibility: 'published',
      params: { orgId: p.id, directDays: days, groupDays: days },
      async handler(ctx: Context<{ orgId: string; directDays?: number | null; groupDays?: number | null }>) {
        const caller = callerOf(ctx);
        mustAdminister(caller, ctx.params.orgId);
        // PUT replaces the policy whole (Webex's PUT): a type not given keeps its messages forever.
        const { directDays, groupDays } = ctx.params;
        const before = await retention.get(caller.orgId);
        const policy: RetentionPolicy = {
          orgId: caller.orgId,
          ...(directDays != null ? { directDays } : {}),
          ...(groupDays != null ? { groupDays } : {}),
          updated: new Date().toISOString(),
          updatedBy: caller.id,
        };
        await retention.put(policy);
        const kept = (n: number | undefined) => (n === undefined ? 'forever' : `${n} days`);
        await ctx.call('people.recordAudit', {
          category: 'ORG_SETTINGS', eventDescription: 'Message retention policy changed',
          actionText: `${caller.displayName} set the message retention of the organization: direct rooms ${kept(policy.directDays)} (was ${kept(before?.directDays)}), group rooms ${kept(policy.groupDays)} (was ${kept(before?.groupDays)})`,
          targetId: caller.orgId, targetType: 'ORGANIZATION', targetName: caller.orgId, targetOrgId: caller.orgId,
        });
        return present(policy, caller.orgId);
      },
    },
  };
}

export interface RetentionSweepOptions {
  rc: RoomsContext;
  retention: RetentionStore;
  broker: ServiceBroker;
  owns: (roomId: string) => boolean;
  warn: (err: unknown, message: string) => void;
  now?: () => number;
}

const callerOfPerson = (person: PersonRecord): Caller => ({
  id: person.id, orgId: person.orgId, email: person.emails[0] ?? '', displayName: person.displayName, roles: person.roles ?? [], type: person.type,
});

/** One pass over the rooms this node owns; resolves with the messages it deleted per org. */
export async function sweepRetention(options: RetentionSweepOptions): Promise<Map<string, number>> {
  const { rc, retention, broker } = options;
  const deleted = new Map<string, number>();
  const policies = new Map((await retention.list()).map((policy) => [policy.orgId, policy]));
  if (policies.size === 0) return deleted;
  const now = (options.now ?? Date.now)();
  const orgOfCreator = new Map<string, string | undefined>();
  const resolve = async (personId: string) => broker.call<PersonRecord | null, object>('people.resolve', { personId });
  let budget = SWEEP_BUDGET;
  for (let after: string | undefined, first = true; (first || after !== undefined) && budget > 0; first = false) {
    const page = await rc.store.listRoomIds({ max: ROOM_PAGE, ...(after ? { after } : {}) });
    for (const roomId of page.items) {
      if (budget <= 0) break;
      if (!options.owns(roomId)) continue;
      const room = await rc.store.getRoom(roomId);
      if (!room) continue;
      if (!orgOfCreator.has(room.creatorId)) orgOfCreator.set(room.creatorId, (await resolve(room.creatorId))?.orgId);
      const orgId = orgOfCreator.get(room.creatorId);
      const policy = orgId ? policies.get(orgId) : undefined;
      const keepDays = room.type === 'direct' ? policy?.directDays : policy?.groupDays;
      if (!policy || keepDays === undefined) continue;
      const cutoff = new Date(now - keepDays * DAY_MS).toISOString();
      if (room.created >= cutoff) continue; // nothing in it is that old
      const setter = await resolve(policy.updatedBy);
      if (!setter) continue; // an actor is needed; a policy whose setter is gone waits for a new one
      for (;;) {
        const expired = await rc.store.listMessages({ roomId, before: cutoff, max: Math.min(BATCH, budget) });
        if (expired.length === 0) break;
        const count = await options.rc.log.append(roomId, async () => {
          // Read again in the room's queue: a message deleted meanwhile is not deleted twice.
          const still = (await Promise.all(expired.map((message) => rc.store.getMessage(message.id)))).filter((message) => message !== undefined);
          const tracked = still.map((message) => rc.reads.deleted(message));
          return {
            activities: still.map((message) => ({ event: 'message.deleted' as const, actorId: setter.id, data: presentDeletedMessage(message) })),
            changes: still.map((message) => ({ op: 'deleteMessage' as const, id: message.id })),
            result: still.length,
            after: async () => {
              for (const upkeep of tracked) await upkeep();
            },
          };
        });
        deleted.set(policy.orgId, (deleted.get(policy.orgId) ?? 0) + count);
        budget -= expired.length;
        if (expired.length < BATCH || budget <= 0) break;
      }
    }
    after = page.next;
  }
  for (const [orgId, count] of deleted) {
    const policy = policies.get(orgId)!;
    const setter = await resolve(policy.updatedBy);
    if (!setter || count === 0) continue;
    await broker.call('people.recordAudit', {
      category: 'COMPLIANCE', eventDescription: 'Messages deleted by the retention policy',
      actionText: `${count} messages older than the retention policy (direct rooms ${policy.directDays ?? 'forever'}, group rooms ${policy.groupDays ?? 'forever'} days) were deleted`,
      targetId: orgId, targetType: 'ORGANIZATION', targetName: orgId, targetOrgId: orgId,
    }, { meta: { caller: callerOfPerson(setter) } }).catch((err: unknown) => options.warn(err, 'recording the retention sweep\'s audit event failed'));
  }
  return deleted;
}
