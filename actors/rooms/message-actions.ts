// The rooms actor's message actions: post (to a room, or to a person through their direct
// room, created on first use), list, read, edit and delete. The caller's right to post or
// edit is checked in the room's write queue before any markdown is rendered or any mention
// looked up, and a message's mentions are resolved in one call to the people actor.
import type { Context } from 'moleculer';
import { callerOf, type Caller } from '../../contracts/caller.ts';
import { Errors } from 'moleculer';
import { badRequest, locked, notFound } from '../../contracts/errors.ts';
import { idKind, newId } from '../../contracts/ids.ts';
import type { IdempotentRequest } from '../../contracts/idempotency.ts';
import { idempotencyParam, keyedRequest } from '../idempotent-writes.ts';
import * as p from '../params.ts';
import type { CardAttachment, MembershipRecord, MessageRecord, PersonRecord, RoomRecord } from '../../storage/records.ts';
import { decodeCursor, encodeCursor } from '../../storage/cursor.ts';
import { attachmentsParam, checkedAttachments } from './card-attachments.ts';
import { parseMarkdown, type MentionTarget } from './markdown.ts';
import { mustBeAbleToDeleteMessage, mustBeAbleToEditMessage, mustBeAbleToPost } from './policy.ts';
import { presentDeletedMessage, presentMembership, presentMessage, presentRoom } from './presenters.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

// Webex's limit on a message, in bytes of text or markdown.
const MAX_MESSAGE_BYTES = 7439;
const messageText = { type: 'string', max: MAX_MESSAGE_BYTES, optional: true } as const;

interface Content {
  text?: string;
  markdown?: string;
  html?: string;
  mentionedPeople?: string[];
  mentionedGroups?: string[];
}

type PersonTarget = Exclude<MentionTarget, { group: 'all' }>;
type PersonLookup = { personId?: string; email?: string };

/** One key per distinct person mentioned, however often. */
const lookupKey = (target: PersonTarget) => ('personId' in target ? `id:${target.personId}` : `email:${target.personEmail}`);

function mustFitMessageLimit(...values: (string | undefined)[]): void {
  for (const value of values) {
    if (value !== undefined && Buffer.byteLength(value) > MAX_MESSAGE_BYTES) throw badRequest(`A message may hold at most ${MAX_MESSAGE_BYTES} bytes.`);
  }
}

export function messageActions(rc: RoomsContext): RoomsActions {
  const { store, log } = rc;

  const loadMessage = async (messageId: string) => {
    const message = idKind(messageId) === 'MESSAGE' ? await store.getMessage(messageId) : undefined;
    if (!message) throw notFound('Message not found.');
    return message;
  };

  /** Renders markdown and resolves its mentions to people, all in one call to the people actor. */
  const renderContent = async (ctx: Context, text: string | undefined, markdown: string | undefined): Promise<Content> => {
    if (markdown === undefined) return { text };
    const parsed = parseMarkdown(markdown);
    const lookups = new Map<string, PersonLookup>();
    for (const target of parsed.targets) {
      if ('group' in target) continue;
      lookups.set(lookupKey(target), 'personId' in target ? { personId: target.personId } : { email: target.personEmail });
    }
    const idOf = new Map<string, string>();
    if (lookups.size > 0) {
      const people = await ctx.call<(PersonRecord | null)[], { people: PersonLookup[] }>('people.resolveMany', { people: [...lookups.values()] });
      [...lookups.keys()].forEach((key, i) => {
        if (people[i]) idOf.set(key, people[i].id);
      });
    }
    const resolve = (target: MentionTarget) => ('group' in target ? undefined : idOf.get(lookupKey(target)));
    const { html, text: plain } = parsed.render(resolve);
    const mentioned = [...new Set(parsed.targets.map(resolve).filter((id): id is string => id !== undefined))];
    const groups = parsed.targets.some((t) => 'group' in t) ? ['all'] : [];
    return { text: text ?? plain, markdown, html, mentionedPeople: mentioned.length ? mentioned : undefined, mentionedGroups: groups.length ? groups : undefined };
  };

  /** The 1:1 room of two people, created on first use; concurrent first messages share one room. */
  const directRoom = async (ctx: Context, caller: Caller, other: PersonRecord): Promise<RoomRecord> => {
    if (other.id === caller.id) throw badRequest('A direct message needs another person.');
    const directKey = [caller.id, other.id].sort().join(':');
    return log.exclusive(directKey, async () => {
      const existing = await store.findDirectRoom(directKey);
      if (existing) return existing;
      // Another node may be creating the same room right now: the store's claim decides.
      const roomId = newId('ROOM');
      const holder = await store.claimDirectRoom(directKey, roomId);
      if (holder !== roomId) {
        const created = await awaitRoom(holder);
        if (created) return created;
        // The claim's room never came to exist (its creator died): take the claim over.
        if ((await store.claimDirectRoom(directKey, roomId, holder)) !== roomId) throw new Errors.MoleculerRetryableError('The direct room is being created; try again.', 503, 'RETRY');
      }
      return log.append(roomId, async (firstSeq, now) => {
        const room: RoomRecord = {
          id: roomId, title: `${caller.displayName} & ${other.displayName}`, type: 'direct', isLocked: false, isAnnouncementOnly: false,
          isReadOnly: false, isPublic: false, creatorId: caller.id, orgId: caller.orgId, created: now, lastActivity: now, directKey,
          directNames: { [caller.id]: caller.displayName, [other.id]: other.displayName },
        };
        const members: MembershipRecord[] = [
          { id: newId('MEMBERSHIP'), personId: caller.id, personEmail: caller.email, personDisplayName: caller.displayName, personOrgId: caller.orgId, joinedSeq: firstSeq + 1 },
          { id: newId('MEMBERSHIP'), personId: other.id, personEmail: other.emails[0], personDisplayName: other.displayName, personOrgId: other.orgId, joinedSeq: firstSeq + 2 },
        ].map((m) => ({ ...m, roomId, roomType: 'direct', isModerator: false, isRoomHidden: false, isMonitor: false, created: now }));
        return {
          activities: [
            { event: 'room.created', actorId: caller.id, data: presentRoom(room) },
            ...members.map((m) => ({ event: 'membership.created' as const, actorId: caller.id, subjectId: m.personId, data: presentMembership(m) })),
          ],
          changes: [{ op: 'putRoom', room }, ...members.map((membership) => ({ op: 'putMembership' as const, membership }))],
          result: room,
          after: rc.reads.joined(roomId, members.map((m) => ({ personId: m.personId, seq: m.joinedSeq })), 0),
        };
      });
    });
  };

  /** The room another node claimed, once it exists; undefined if it does not appear in time. */
  const awaitRoom = async (roomId: string): Promise<RoomRecord | undefined> => {
    for (let waited = 0; waited < 5000; waited += 100) {
      const room = await store.getRoom(roomId);
      if (room) return room;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return undefined;
  };

  const listPage = async (query: { roomId: string; parentId?: string; mentionedPersonId?: string; before?: string; beforeSeq?: number; max: number }) => {
    // One row more than asked tells whether another page exists.
    const rows = await store.listMessages({ ...query, max: query.max + 1 });
    const items = rows.slice(0, query.max);
    return { items: items.map(presentMessage), next: rows.length > query.max ? encodeCursor([items[items.length - 1].seq]) : undefined };
  };

  const cursorSeq = (cursor: string | undefined) => {
    const values = decodeCursor(cursor);
    if (cursor && (!values || !Number.isInteger(values[0]))) throw badRequest('Invalid cursor.');
    return values?.[0] as number | undefined;
  };

  return {
    createMessage: {
      visibility: 'published',
      params: {
        roomId: p.optionalId, toPersonId: p.optionalId, toPersonEmail: { ...p.email, optional: true }, parentId: p.optionalId,
        text: messageText, markdown: messageText,
        files: { type: 'array', items: { type: 'url', max: 2048 }, max: 1, optional: true },
        attachments: attachmentsParam,
        idempotency: idempotencyParam,
      },
      async handler(ctx: Context<{ roomId?: string; toPersonId?: string; toPersonEmail?: string; parentId?: string; text?: string; markdown?: string; files?: string[]; attachments?: CardAttachment[]; idempotency?: IdempotentRequest }>) {
        const caller = callerOf(ctx);
        const { roomId, toPersonId, toPersonEmail, parentId, files, attachments } = ctx.params;
        if ([roomId, toPersonId, toPersonEmail].filter(Boolean).length !== 1) throw badRequest('Exactly one of roomId, toPersonId or toPersonEmail is required.');
        if (!ctx.params.text && !ctx.params.markdown && !files?.length && !attachments?.length) throw badRequest('A message needs text, markdown, files or attachments.');
        mustFitMessageLimit(ctx.params.text, ctx.params.markdown);
        const cards = checkedAttachments(attachments);
        const target = roomId ? undefined : await rc.resolvePerson(ctx, toPersonId ? { personId: toPersonId } : { email: toPersonEmail });
        const postTo = target ? (await directRoom(ctx, caller, target)).id : roomId!;
        // Rendered once the caller may post, and only once if a conflicting write re-plans.
        let content: Content | undefined;
        return log.append(postTo, async (firstSeq, now) => {
          const { room: current, membership } = await rc.loadRoomAsMember(ctx, postTo);
          mustBeAbleToPost(current, membership);
          if (parentId) {
            const parent = await store.getMessage(parentId);
            if (!parent || parent.roomId !== current.id) throw badRequest('The parent message is not in this room.');
            if (parent.parentId) throw badRequest('A reply cannot have replies; reply to the thread\'s first message.');
          }
          content ??= await renderContent(ctx, ctx.params.text, ctx.params.markdown);
          const messageCount = (current.messageCount ?? 0) + 1;
          const message: MessageRecord = {
            id: newId('MESSAGE'), roomId: current.id, roomType: current.type, seq: firstSeq, ord: messageCount, parentId,
            personId: caller.id, personEmail: caller.email, toPersonId: target?.id, toPersonEmail: target?.emails[0],
            ...content, files, attachments: cards, created: now, editCount: 0,
          };
          const shown = presentMessage(message);
          return {
            activities: [{ event: 'message.created', actorId: caller.id, data: shown }],
            changes: [{ op: 'putMessage', message }, { op: 'putRoom', room: { ...current, lastActivity: now, messageCount } }],
            result: shown,
            after: rc.reads.posted(message, messageCount),
          };
        }, keyedRequest(caller.id, ctx.params.idempotency));
      },
    },

    listMessages: {
      visibility: 'published',
      params: {
        roomId: p.id, parentId: p.optionalId, mentionedPeople: { type: 'string', max: 200, optional: true },
        before: { type: 'string', max: 64, optional: true }, beforeMessage: p.optionalId, max: p.max(50), cursor: p.cursor,
      },
      async handler(ctx: Context<{ roomId: string; parentId?: string; mentionedPeople?: string; before?: string; beforeMessage?: string; max: number; cursor?: string }>) {
        const caller = callerOf(ctx);
        const { roomId, parentId, mentionedPeople, before, beforeMessage, max, cursor } = ctx.params;
        await rc.loadRoomAsReader(ctx, roomId, 'messages', { roomId, parentId, mentionedPeople, before, beforeMessage });
        if (before !== undefined && Number.isNaN(Date.parse(before))) throw badRequest('before must be an ISO 8601 date.');
        let beforeSeq = cursorSeq(cursor);
        if (beforeMessage) {
          const anchor = await store.getMessage(beforeMessage);
          if (!anchor || anchor.roomId !== roomId) throw badRequest('beforeMessage is not a message of this room.');
          beforeSeq = Math.min(beforeSeq ?? Infinity, anchor.seq);
        }
        const mentionedPersonId = mentionedPeople === undefined ? undefined : mentionedPeople === 'me' ? caller.id : mentionedPeople;
        return listPage({ roomId, parentId, mentionedPersonId, before: before && new Date(before).toISOString(), beforeSeq, max });
      },
    },

    listDirectMessages: {
      visibility: 'published',
      params: { personId: p.optionalId, personEmail: { ...p.email, optional: true }, parentId: p.optionalId, max: p.max(50), cursor: p.cursor },
      async handler(ctx: Context<{ personId?: string; personEmail?: string; parentId?: string; max: number; cursor?: string }>) {
        const caller = callerOf(ctx);
        const { personId, personEmail, parentId, max, cursor } = ctx.params;
        if (!personId && !personEmail) throw badRequest('personId or personEmail is required.');
        const other = await rc.resolvePerson(ctx, personId ? { personId } : { email: personEmail });
        const room = await store.findDirectRoom([caller.id, other.id].sort().join(':'));
        if (!room) return { items: [] };
        return listPage({ roomId: room.id, parentId, beforeSeq: cursorSeq(cursor), max });
      },
    },

    getMessage: {
      visibility: 'published',
      params: { messageId: p.id },
      async handler(ctx: Context<{ messageId: string }>) {
        const message = await loadMessage(ctx.params.messageId);
        await rc.loadRoomAsReader(ctx, message.roomId, 'messages', { messageId: message.id }).catch(() => {
          throw notFound('Message not found.');
        });
        return presentMessage(message);
      },
    },

    updateMessage: {
      visibility: 'published',
      params: { messageId: p.id, roomId: p.id, text: messageText, markdown: messageText },
      async handler(ctx: Context<{ messageId: string; roomId: string; text?: string; markdown?: string }>) {
        const caller = callerOf(ctx);
        const { messageId, roomId, text, markdown } = ctx.params;
        if (!text && !markdown) throw badRequest('text or markdown is required.');
        mustFitMessageLimit(text, markdown);
        // Rendered once the caller may edit, and only once if a conflicting write re-plans.
        let content: Content | undefined;
        return log.append(roomId, async (_firstSeq, now) => {
          const message = await loadMessage(messageId);
          // Membership first: a non-member must not learn which room a message is in.
          const { room } = await rc.loadRoomAsMember(ctx, message.roomId).catch(() => {
            throw notFound('Message not found.');
          });
          if (message.roomId !== roomId) throw badRequest('The message is not in this room.');
          mustBeAbleToEditMessage(message, caller.id);
          if (room.isReadOnly) throw locked('The room is read-only.');
          content ??= await renderContent(ctx, text, markdown);
          const updated: MessageRecord = {
            ...message, text: undefined, markdown: undefined, html: undefined, mentionedPeople: undefined, mentionedGroups: undefined,
            ...content, updated: now, editCount: message.editCount + 1,
          };
          return {
            activities: [{ event: 'message.updated', actorId: caller.id, messageSeq: updated.seq, data: presentMessage(updated) }],
            changes: [{ op: 'putMessage', message: updated }],
            result: presentMessage(updated),
          };
        });
      },
    },

    removeMessage: {
      visibility: 'published',
      params: { messageId: p.id },
      async handler(ctx: Context<{ messageId: string }>) {
        const caller = callerOf(ctx);
        const original = await loadMessage(ctx.params.messageId);
        await log.append(original.roomId, async () => {
          const { room, membership } = await rc.loadRoomAsMember(ctx, original.roomId).catch(() => {
            throw notFound('Message not found.');
          });
          const message = await loadMessage(ctx.params.messageId);
          mustBeAbleToDeleteMessage(room, message, membership);
          return {
            activities: [{ event: 'message.deleted', actorId: caller.id, data: presentDeletedMessage(message) }],
            changes: [{ op: 'deleteMessage', id: message.id }],
            result: null,
            after: rc.reads.deleted(message),
          };
        });
        return null;
      },
    },
  };
}
