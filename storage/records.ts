// The records Squared stores. They are the Webex REST resources plus the few internal
// fields (sequence positions, keys) that actors need; presenters strip the latter.

import type { PersonType } from '../contracts/caller.ts';
import type { ActivityEvent, LiveEvent } from '../contracts/live-frames.ts';
import type { IndexedMessage } from './interfaces.ts';

export type { ActivityEvent, PersonType };

export interface PersonRecord {
  id: string;
  emails: string[];
  displayName: string;
  nickName?: string;
  firstName?: string;
  lastName?: string;
  avatar?: string;
  orgId: string;
  roles: string[];
  type: PersonType;
  created: string;
  lastModified: string;
}

export type TokenKind = 'access' | 'refresh';

export interface TokenRecord {
  /** sha256 of the token; the token itself is never stored. */
  hash: string;
  personId: string;
  kind: TokenKind;
  /** ISO time, or null for tokens that do not expire (bot tokens). */
  expiresAt: string | null;
  created: string;
  /**
   * The sign-in the token descends from: a password grant starts a family, and every token
   * a refresh issues from it joins it, so that one revocation reaches all of them (RFC 9700
   * §4.14). Absent for tokens of no sign-in (bots, the first administrator's).
   */
  familyId?: string;
  /** Refresh tokens only: when it was exchanged. A used refresh token presented again means a copy leaked. */
  usedAt?: string;
}

export type RoomType = 'direct' | 'group';

export interface RoomRecord {
  id: string;
  title: string;
  type: RoomType;
  isLocked: boolean;
  isAnnouncementOnly: boolean;
  isReadOnly: boolean;
  isPublic: boolean;
  description?: string;
  teamId?: string;
  classificationId?: string;
  creatorId: string;
  /**
   * The organization that owns the room: its creator's when it was created. Its compliance
   * officers read it (actors/rooms/policy.ts) and its events (GET /v1/events). Absent in
   * rooms from before it was kept: those belong to no organization's compliance.
   */
  orgId?: string;
  created: string;
  lastActivity: string;
  /**
   * Messages ever posted in the room (deleted ones included): each message's `ord` is the
   * count after it, so a reader's unread count is this minus the `ord` read up to, minus
   * the deletions after it (read-status.ts). Absent in rooms from before it was kept: 0.
   */
  messageCount?: number;
  /** For direct rooms: the two person ids, sorted and joined, unique across rooms. */
  directKey?: string;
  /** For direct rooms: each member's display name, so each sees the other's as title. */
  directNames?: Record<string, string>;
}

export interface MembershipRecord {
  id: string;
  roomId: string;
  roomType: RoomType;
  personId: string;
  personEmail: string;
  personDisplayName: string;
  personOrgId: string;
  isModerator: boolean;
  isRoomHidden: boolean;
  isMonitor: boolean;
  created: string;
  /** The room sequence of this membership's `membership.created`: where the member's view starts. */
  joinedSeq: number;
}

export interface MessageRecord {
  id: string;
  roomId: string;
  roomType: RoomType;
  /** The room sequence of the message's creation; orders messages within a room. */
  seq: number;
  /** The room's messageCount once this message was posted: its place among the room's messages. */
  ord?: number;
  parentId?: string;
  personId: string;
  personEmail: string;
  toPersonId?: string;
  toPersonEmail?: string;
  text?: string;
  markdown?: string;
  html?: string;
  files?: string[];
  /** Adaptive Cards (actors/rooms/card-attachments.ts); kept through edits, as in Webex. */
  attachments?: CardAttachment[];
  mentionedPeople?: string[];
  mentionedGroups?: string[];
  created: string;
  updated?: string;
  editCount: number;
  /**
   * The previews of the message's files (a Squared extension, docs/previews.md), one per file
   * whose preview job ran, recorded by the rooms actor from the files actor's outcome.
   */
  filePreviews?: MessageFilePreview[];
}

/** A file's preview as the message shows it: no blob key (the image is served at the file's `/preview`). */
export interface MessageFilePreview {
  /** The file's content id (its URL in `files` ends with it). */
  contentId: string;
  state: 'ready' | 'none';
  /** `image`, `pdf` (its first page as an image) or `text` (a snippet). */
  kind?: 'image' | 'pdf' | 'text';
  /** The preview image's type, size and (PDF) the document's page count. */
  mimeType?: string;
  width?: number;
  height?: number;
  pages?: number;
  snippet?: string;
  truncated?: boolean;
  /** Why there is none: unsupported, too-large, unreadable, timeout, memory, crashed, missing. */
  reason?: string;
}

/** A message's card: Webex's `{contentType: 'application/vnd.microsoft.card.adaptive', content}`. */
export interface CardAttachment {
  contentType: string;
  content: Record<string, unknown>;
}

/** A room tab (Webex RoomTab): a named link pinned to a room, state of the room like its members. */
export interface RoomTabRecord {
  id: string;
  roomId: string;
  roomType: RoomType;
  displayName: string;
  /** An https URL. */
  contentUrl: string;
  creatorId: string;
  created: string;
}

/** The mentions index's key of a message mentioning everyone (`mentionedGroups: ['all']`). */
export const ALL_MENTIONED = '*';

/** Who a message mentions, as the mentions index keys them: people, and ALL_MENTIONED for @all. */
export function mentionKeys(m: Pick<MessageRecord, 'mentionedPeople' | 'mentionedGroups'>): string[] {
  const keys = [...(m.mentionedPeople ?? [])];
  if (m.mentionedGroups?.includes('all')) keys.push(ALL_MENTIONED);
  return keys;
}

/**
 * A message as the search index holds it, from its record or its REST shape (an activity's
 * `data`): the text searched (markdown when there is no text), who it mentions, whether it has
 * files; `seq` is the seq of its creation (the REST shape has none: the activity says it);
 * `orgId` the organization owning its room.
 */
export function indexedMessageOf(
  m: Pick<MessageRecord, 'id' | 'roomId' | 'personId' | 'text' | 'markdown' | 'created' | 'files' | 'mentionedPeople' | 'mentionedGroups'>,
  version: number,
  seq: number,
  orgId: string | undefined,
): IndexedMessage {
  return {
    id: m.id, roomId: m.roomId, personId: m.personId, text: m.text ?? m.markdown ?? '', created: m.created,
    mentioned: mentionKeys(m), hasFiles: (m.files?.length ?? 0) > 0, version, seq, ...(orgId ? { orgId } : {}),
  };
}

/**
 * How far a member has read a room: kept per (room, person) by the rooms actor, outside the
 * room's log (a read is no activity). `seq`/`ord` only ever grow; `hidden` and `mentions`
 * are counters kept up to date by the room's writes and recomputed from the store's indexes
 * at every read, so the unread counts are O(1) to answer (actors/rooms/read-status.ts).
 */
export interface ReadPosition {
  roomId: string;
  personId: string;
  /** The room seq of the last message read (of the join, before any). */
  seq: number;
  /** That message's `ord` (the room's messageCount at the join, before any). */
  ord: number;
  /** The last message read (Webex's lastSeenId), and its creation time (lastSeenActivityDate). */
  messageId?: string;
  seenDate?: string;
  /** Messages after `ord` since deleted (they no longer count as unread). */
  hidden: number;
  /** Messages after `ord`, not deleted, that mention the person or everyone. */
  mentions: number;
}

/** One entry of a room's activity log: what happened, in the room's order. */
export interface Activity extends LiveEvent {
  /** For membership events: the person whose membership changed. */
  subjectId?: string;
  /**
   * For `message.updated`: the seq of the message's creation (its place in the room's
   * history, which the search index keeps to bound a former member's reach).
   */
  messageSeq?: number;
}

export interface TeamRecord {
  id: string;
  name: string;
  description?: string;
  creatorId: string;
  generalRoomId: string;
  created: string;
}

export interface TeamMembershipRecord {
  id: string;
  teamId: string;
  personId: string;
  personEmail: string;
  personDisplayName: string;
  personOrgId: string;
  isModerator: boolean;
  created: string;
}

/**
 * Webex meeting states as Squared uses them: `active` (created, nobody in it yet),
 * `inProgress` (someone joined), `ended` (ended by its host, or everyone left an ad-hoc one).
 */
export type MeetingState = 'active' | 'inProgress' | 'ended';

export interface MeetingRecord {
  /** 32 lowercase hex digits, like Webex meeting ids. */
  id: string;
  /** 10 digits, unique enough to read out; not a key. */
  meetingNumber: string;
  title: string;
  agenda?: string;
  password: string;
  /** ISO-8601 times and an IANA zone, as given at creation (or defaulted). */
  start: string;
  end: string;
  timezone: string;
  hostUserId: string;
  hostEmail: string;
  hostDisplayName: string;
  /** The room whose members may join (a room meeting); absent for a personal meeting. */
  roomId?: string;
  enabledJoinBeforeHost: boolean;
  state: MeetingState;
  /** A locked meeting sends everyone but its hosts to the lobby. */
  locked: boolean;
  /** The media node the meeting was placed on (its Moleculer nodeID). */
  mediaNodeId: string;
  created: string;
  lastModified: string;
  /** Bumped by every update; the store refuses an update from a stale version. */
  version: number;
}

export type ParticipantState = 'lobby' | 'joined' | 'end';

export interface ParticipantProducer {
  id: string;
  kind: 'audio' | 'video';
  paused: boolean;
}

/** One join of a person (one device) to a meeting. */
export interface ParticipantRecord {
  /** `<meetingId>_<32 hex>`, like Webex participant ids. */
  id: string;
  meetingId: string;
  personId: string;
  email: string;
  displayName: string;
  host: boolean;
  coHost: boolean;
  state: ParticipantState;
  /** Audio muted (by the participant or by a host). */
  muted: boolean;
  video: 'on' | 'off';
  handRaised: boolean;
  joinedTime: string;
  leftTime?: string;
  /** The gateway node holding the participant's live session, to clean up when it goes. */
  gatewayNodeId?: string;
  sessionId?: string;
  /**
   * When the participant's live session went away without leaving (a closed socket, a lost
   * gateway): they keep their place, and their media, for the reconnect grace; a session
   * that joins with their id takes it back. Absent while a session holds them.
   */
  detachedAt?: string;
  producers: ParticipantProducer[];
  /** The media node of the participant's media (a large meeting spans nodes); absent: the meeting's. */
  mediaNodeId?: string;
  /** Bumped when the participant must set its media up again (the meeting moved workers). */
  mediaEpoch: number;
}

/**
 * An Idempotency-Key's answer, stored in the same commit as the write it answered: a retry
 * with the same key from the same person gets `status` and `body` again and writes nothing.
 */
export interface IdempotencyRecord {
  personId: string;
  key: string;
  /** The request it answered (contracts/idempotency.ts): another request with the key is refused. */
  fingerprint: string;
  status: number;
  /** The response body, as JSON. */
  body: string;
  /** ISO time of the write; the record is forgotten 24 hours later. */
  created: string;
}
