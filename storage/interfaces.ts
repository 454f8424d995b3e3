// One small interface per kind of data, each with its guarantees written on it. Actors
// depend on these only; `storage/embedded` implements them on node:sqlite, the cluster
// adapters on Cassandra/Redis/Elasticsearch/RabbitMQ.
import type {
  Activity, IdempotencyRecord, MeetingRecord, MeetingState, MembershipRecord, ParticipantRecord, MessageRecord, PersonRecord, ReadPosition, RoomRecord, RoomTabRecord, TeamMembershipRecord, TeamRecord, TokenRecord,
} from './records.ts';
import type { AuditRecord } from '../contracts/audit-events.ts';

export interface Page<T> {
  items: T[];
  /** Opaque position to pass back for the next page; absent on the last page. */
  next?: string;
}

/**
 * People and their credentials. Owned by the `people` actor.
 *
 * A change made by an administrator carries its `audit` event (storage/audit-store.ts), written
 * in the same commit as the change: embedded, in its transaction; on Cassandra, in the logged
 * batch of its rows. A change that fails (a taken email) writes no event.
 */
export interface PeopleStore {
  createPerson(person: PersonRecord, passwordHash?: string, audit?: AuditRecord): Promise<void>;
  /** Replaces the person; emails stay unique across people (throws DuplicateEmailError). */
  updatePerson(person: PersonRecord, audit?: AuditRecord): Promise<void>;
  deletePerson(id: string, audit?: AuditRecord): Promise<void>;
  getPerson(id: string): Promise<PersonRecord | undefined>;
  getPersonByEmail(email: string): Promise<PersonRecord | undefined>;
  listPeople(query: { orgId: string; email?: string; displayName?: string; ids?: string[]; max: number; after?: string }): Promise<Page<PersonRecord>>;
  countPeople(): Promise<number>;
  setPasswordHash(personId: string, hash: string): Promise<void>;
  getPasswordHash(personId: string): Promise<string | undefined>;
  saveToken(token: TokenRecord): Promise<void>;
  getToken(hash: string): Promise<TokenRecord | undefined>;
  deleteToken(hash: string): Promise<void>;
  /**
   * Marks an unused refresh token as used at `usedAt`, atomically across processes: of any
   * number of concurrent calls for one token exactly one answers true. False when the token
   * is missing, not a refresh token, or used already. The used token stays (until it
   * expires or its family goes), so that presenting it again can be recognized.
   */
  useRefreshToken(hash: string, usedAt: string): Promise<boolean>;
  /** Deletes every token of the family (access and refresh, used or not). */
  deleteTokenFamily(familyId: string): Promise<void>;
  /** Deletes every token of the person (bots' and families alike). */
  deletePersonTokens(personId: string, audit?: AuditRecord): Promise<void>;
}

export class DuplicateEmailError extends Error {
  readonly email: string;

  constructor(email: string) {
    super(`email ${email} belongs to another person`);

    this.email = email;
    this.name = 'DuplicateEmailError';
  }
}

export type RoomChange =
  | { op: 'putRoom'; room: RoomRecord }
  | { op: 'deleteRoom'; roomId: string }
  | { op: 'putMembership'; membership: MembershipRecord }
  | { op: 'deleteMembership'; id: string }
  /**
   * The person left the room (or was removed): they keep their reach into its history up to
   * `lastSeq`, the last activity before their departure (search, docs/search.md). A later
   * departure replaces it; deleted with the room.
   */
  | { op: 'putDeparture'; departure: Departure }
  | { op: 'putMessage'; message: MessageRecord }
  | { op: 'deleteMessage'; id: string }
  | { op: 'putTab'; tab: RoomTabRecord }
  | { op: 'deleteTab'; id: string; roomId: string }
  /** The answer to a keyed request, committed with the write it answers (never deleted with the room). */
  | { op: 'putIdempotency'; record: IdempotencyRecord }
  /**
   * The org's activity index (RoomStore.orgActiveHours): the room, owned by `orgId`, wrote
   * activities up to `lastSeq` (the write's own last seq) in `hour` (orgHourOf their `created`). Added by the room log
   * to every write of a room with an org; never deleted with the room (its log stays).
   */
  | { op: 'indexOrgActivity'; orgId: string; roomId: string; hour: string; lastSeq: number };

/** A person's departure from a room: the last seq before it, and when. */
export interface Departure {
  roomId: string;
  personId: string;
  lastSeq: number;
  /** ISO time of the departure (the newest are searched first when a person left very many rooms). */
  at: string;
}

/** The org activity index's hour of an ISO time: `2026-12-03T07` (sorts as time does). */
export const orgHourOf = (iso: string) => iso.slice(0, 13);

/** One room of an org's active hour: the last seq it wrote in that hour. */
export interface OrgRoomHour {
  roomId: string;
  lastSeq: number;
}

/** One accepted change to a room: the activities that describe it and the state it leaves. */
export interface RoomWrite {
  roomId: string;
  /** Consecutive sequence numbers, the first being the room's head + 1. */
  activities: Activity[];
  changes: RoomChange[];
}

export type RoomSort = 'id' | 'lastactivity' | 'created';

/**
 * Rooms, memberships, messages and each room's activity log. Owned by the `rooms` actor.
 *
 * Guarantees: `commit` is atomic and durable when it returns (the activity and all its
 * changes, or nothing), and it is the fencing point of room ownership: it fails with
 * SequenceConflictError when the first activity's seq is not exactly the room's head + 1, so two
 * writers that both believe they own a room can never both append the same or a skipped
 * sequence number.
 */
/** A room write that won its fence and is not applied yet (RoomStore.unappliedWrite). */
export interface UnappliedWrite {
  /** The seqs the write claimed. */
  firstSeq: number;
  lastSeq: number;
  /** The last seq whose state is applied. */
  appliedSeq: number;
  /** The write's activities' events (`message.created`, …), in order. */
  events: string[];
}

export interface RoomStore {
  commit(write: RoomWrite): Promise<void>;
  /** The room's last sequence number (0 when nothing was ever written). */
  head(roomId: string): Promise<number>;
  heads(roomIds: string[]): Promise<Map<string, number>>;
  /**
   * The room's last write if it won its fence but its state is not all applied yet (Cassandra:
   * its writer is still at it, or died before finishing; the next `head()` or commit applies
   * it). Never one embedded, where a commit is one transaction. Only reads: it repairs nothing,
   * so that an operator can see the write before anything completes it.
   */
  unappliedWrite(roomId: string): Promise<UnappliedWrite | undefined>;
  /** Activities with afterSeq < seq <= uptoSeq, in order, at most `limit`. */
  activities(roomId: string, afterSeq: number, uptoSeq: number, limit: number): Promise<Activity[]>;
  /**
   * The person's joins and departures in the room, in order: their `membership.created` /
   * `membership.deleted` activities and any `room.deleted`. What a person may see of a
   * room's log is exactly the spans between a join and the next departure.
   */
  membershipHistory(roomId: string, personId: string): Promise<{ seq: number; event: 'membership.created' | 'membership.deleted' | 'room.deleted' }[]>;
  /**
   * The org's hours (orgHourOf) in which a room it owns wrote anything, newest first, with
   * fromHour <= hour <= uptoHour, at most `max`: what GET /v1/events reads instead of every
   * room of the org. An hour without writes costs nothing.
   */
  orgActiveHours(orgId: string, query: { fromHour: string; uptoHour: string; max: number }): Promise<string[]>;
  /** The org's rooms that wrote in the hour, each with the last seq it wrote then (any order). */
  orgRoomsInHour(orgId: string, hour: string): Promise<OrgRoomHour[]>;

  getRoom(id: string): Promise<RoomRecord | undefined>;
  findDirectRoom(directKey: string): Promise<RoomRecord | undefined>;
  /**
   * Claims the direct room of two people for `roomId` before it is created, atomically
   * across processes: returns the room id that holds the claim (`roomId` when this call
   * won). A claim whose room never came to exist is taken over by passing it as `replacing`.
   */
  claimDirectRoom(directKey: string, roomId: string, replacing?: string): Promise<string>;
  listRoomsOf(personId: string, query: { type?: string; teamId?: string; sortBy: RoomSort; max: number; after?: string }): Promise<Page<RoomRecord>>;
  listTeamRooms(teamId: string): Promise<RoomRecord[]>;
  /**
   * Every room's id, a page at a time, in an order of the store's choosing (operators'
   * tools: rebuilding what is derived, such as the search index). `after` is the opaque
   * `next` of the page before.
   */
  listRoomIds(query: { max: number; after?: string }): Promise<Page<string>>;

  getMembership(id: string): Promise<MembershipRecord | undefined>;
  findMembership(roomId: string, personId: string): Promise<MembershipRecord | undefined>;
  listMemberships(query: { roomId?: string; personId?: string; max: number; after?: string }): Promise<Page<MembershipRecord>>;
  /** Every room the person is a member of, with the joined position (for live sync). */
  roomIdsOf(personId: string): Promise<string[]>;
  /** Every room the person has left (whether a member again or not), as they last left it. */
  departuresOf(personId: string): Promise<Departure[]>;

  getMessage(id: string): Promise<MessageRecord | undefined>;
  /**
   * The answer stored by a `putIdempotency` change for the person's key, unless it is more
   * than 24 hours old. It is committed with its write, so it is readable exactly when the
   * write is: after `head()` of the write's room has returned its seq (on Cassandra, a
   * write whose state is not yet applied is applied by that read).
   */
  getIdempotency(personId: string, key: string): Promise<IdempotencyRecord | undefined>;
  listMessages(query: { roomId: string; parentId?: string; beforeSeq?: number; before?: string; mentionedPersonId?: string; max: number }): Promise<MessageRecord[]>;

  getTab(id: string): Promise<RoomTabRecord | undefined>;
  /** The room's tabs in id order (a room holds few: no paging). Gone with their room. */
  listTabs(roomId: string): Promise<RoomTabRecord[]>;

  // ---- read positions and the indexes that count what is unread -------------------------
  /**
   * Read positions are written outside `commit` (a read is no activity of the room), by the
   * room's owner in the room's write queue, which orders them with the room's writes; the
   * store keeps what it is given (last write wins). Gone with their room by deleteReadPositions.
   */
  getReadPosition(roomId: string, personId: string): Promise<ReadPosition | undefined>;
  /** The person's positions in the given rooms (a room without one is absent from the map). */
  readPositionsOf(personId: string, roomIds: string[]): Promise<Map<string, ReadPosition>>;
  /** Every position kept in the room. */
  roomReadPositions(roomId: string): Promise<ReadPosition[]>;
  putReadPositions(positions: ReadPosition[]): Promise<void>;
  /** The person's position in the room, or with no person every position of the room. */
  deleteReadPositions(roomId: string, personId?: string): Promise<void>;
  /**
   * Messages of the room with `ord` greater than the given one that were deleted (each
   * `deleteMessage` of a message with an `ord` records it, in the same commit).
   */
  countDeletedAfter(roomId: string, ord: number): Promise<number>;
  /** Messages of the room after `seq`, not deleted, that mention the person or everyone (each counted once). */
  countMentionsAfter(roomId: string, personId: string, seq: number): Promise<number>;
}

/** Teams and team memberships. Owned by the `teams` actor. */
export interface TeamStore {
  putTeam(team: TeamRecord): Promise<void>;
  deleteTeam(id: string): Promise<void>;
  getTeam(id: string): Promise<TeamRecord | undefined>;
  listTeamsOf(personId: string, query: { max: number; after?: string }): Promise<Page<TeamRecord>>;
  /**
   * Stores the team, with the answer of the keyed create that made it when given, in one
   * atomic write, unless the team holds an answer already: then it writes nothing and
   * answers false (a concurrent retry of the same create won; its answer is
   * getTeamIdempotency's), so no step of a keyed create can overwrite a finished one.
   */
  putKeyedTeam(team: TeamRecord, idempotency?: IdempotencyRecord): Promise<boolean>;
  /** The answer stored by putKeyedTeam, unless more than 24 hours old; it goes with the team. */
  getTeamIdempotency(teamId: string): Promise<IdempotencyRecord | undefined>;
  /**
   * Fails with DuplicateMemberError when the person is already a member of the team.
   * `idempotency` (a keyed create's answer) is stored with the membership in the same write.
   */
  createTeamMembership(membership: TeamMembershipRecord, idempotency?: IdempotencyRecord): Promise<void>;
  /** The answer stored with the membership by createTeamMembership, unless more than 24 hours old; it goes with the membership. */
  getTeamMembershipIdempotency(membershipId: string): Promise<IdempotencyRecord | undefined>;
  putTeamMembership(membership: TeamMembershipRecord): Promise<void>;
  deleteTeamMembership(id: string): Promise<void>;
  getTeamMembership(id: string): Promise<TeamMembershipRecord | undefined>;
  findTeamMembership(teamId: string, personId: string): Promise<TeamMembershipRecord | undefined>;
  listTeamMemberships(teamId: string, query: { max: number; after?: string }): Promise<Page<TeamMembershipRecord>>;
}

export class DuplicateMemberError extends Error {
  constructor() {
    super('already a member');
    this.name = 'DuplicateMemberError';
  }
}

/**
 * Token buckets shared by every gateway. `take` answers whether one request may pass now,
 * and if not, after how many seconds it would.
 */
export interface RateLimitStore {
  take(key: string, burst: number, perSecond: number): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
}

/** How an AttemptThrottle treats one kind of key (see there). */
export interface AttemptPolicy {
  /** Attempts counted before the first lock (the one that reaches it is still let through). */
  freeAttempts: number;
  /** The first lock; each counted attempt after it doubles the lock, up to maxLockMs. */
  lockMs: number;
  maxLockMs: number;
  /** Counted attempts are forgotten this long after the last one (or the end of its lock, if later). */
  forgetMs: number;
}

/**
 * Attempts that may fail, counted per key (an account, an address), shared by every actor
 * node: after `freeAttempts`, the key is locked for a while that doubles with each further
 * attempt, up to a bound. An attempt is counted when it is let through, before its outcome
 * is known, so that concurrent attempts cannot slip past the lock; a success then `clear`s
 * the key or `refund`s its attempt.
 */
export interface AttemptThrottle {
  /**
   * Refused while the key is locked, with the seconds left (rounded up, at least 1).
   * Otherwise counts the attempt and, at or past `freeAttempts`, locks the key, atomically:
   * of concurrent attempts at most `freeAttempts` pass a fresh key before its first lock.
   */
  attempt(key: string, policy: AttemptPolicy): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
  /** Takes one counted attempt back (it succeeded, and successes must not clear the key); a count under `freeAttempts` lifts the lock. */
  refund(key: string, policy: AttemptPolicy): Promise<void>;
  /** Forgets the key: its count and any lock. */
  clear(key: string): Promise<void>;
}

/**
 * Resolved sessions: a token's hash → what it authenticates (an opaque string the people
 * actor writes), so that a request need not read the token and the person from the people
 * store. A cache, never the truth: an entry lives at most its TTL, and a miss (or any
 * failure of the cache) means "read the store".
 *
 * Invalidation is by person, with a generation: `generation(personId)` before reading the
 * person, `set(…, generation)` after; `dropPerson` bumps the generation and drops the
 * person's entries, so a `set` whose read raced a change of the person stores nothing.
 */
export interface SessionCache {
  get(tokenHash: string): Promise<string | undefined>;
  generation(personId: string): Promise<number>;
  /** Stores the entry only if the person's generation is still `generation`; the TTL is
   *  rounded down to whole seconds, and under one second nothing is stored. */
  set(tokenHash: string, personId: string, generation: number, value: string, ttlSeconds: number): Promise<void>;
  /** After a person changed or was deleted: their entries go, and racing `set`s are refused. */
  dropPerson(personId: string): Promise<void>;
}

/**
 * Meetings and their participants. Owned by the `conferences` actor.
 *
 * Guarantees: `updateMeeting` is a compare-and-set on `version` (atomic across processes:
 * an LWT on Cassandra), so two actors that both believe they own a meeting cannot both
 * apply a change to the same version. Participants are written by the meeting's owner
 * only (last write wins).
 */
export interface ConferenceStore {
  /**
   * Fails with DuplicateMeetingError when the id exists. `idempotency` (a keyed create's
   * answer) is stored with the meeting in the same write, or not at all.
   */
  createMeeting(meeting: MeetingRecord, idempotency?: IdempotencyRecord): Promise<void>;
  /** The answer stored with the meeting by createMeeting, unless more than 24 hours old; it goes with the meeting. */
  getMeetingIdempotency(meetingId: string): Promise<IdempotencyRecord | undefined>;
  /** Stores `meeting` (whose version is expectedVersion + 1) only if the stored version is
   *  `expectedVersion`; answers whether it did. */
  updateMeeting(meeting: MeetingRecord, expectedVersion: number): Promise<boolean>;
  /** The meeting and all its participants. */
  deleteMeeting(id: string): Promise<void>;
  getMeeting(id: string): Promise<MeetingRecord | undefined>;
  /**
   * Meetings of a host or of a room (exactly one of the two is given), ordered by
   * (start, id) ascending, optionally only those in `state` and those whose start is at or
   * after `startFrom` (an ISO time as stored); `after` is a Page.next.
   */
  listMeetings(query: { hostUserId?: string; roomId?: string; state?: MeetingState; startFrom?: string; max: number; after?: string }): Promise<Page<MeetingRecord>>;
  putParticipant(participant: ParticipantRecord): Promise<void>;
  getParticipant(id: string): Promise<ParticipantRecord | undefined>;
  /** Every participant record of the meeting (all states), ordered by joinedTime then id. */
  listParticipants(meetingId: string): Promise<ParticipantRecord[]>;
}

export class DuplicateMeetingError extends Error {
  constructor(id: string) {
    super(`meeting ${id} exists`);
    this.name = 'DuplicateMeetingError';
  }
}

export interface Storage {
  people: PeopleStore;
  rooms: RoomStore;
  teams: TeamStore;
  conferences: ConferenceStore;
  rateLimits: RateLimitStore;
  close(): Promise<void>;
}

export interface IndexedMessage {
  id: string;
  roomId: string;
  personId: string;
  text: string;
  created: string;
  /** Who it mentions, as `mentionKeys` writes them (people ids, ALL_MENTIONED for @all). */
  mentioned: string[];
  hasFiles: boolean;
  /**
   * How new this text is, on the room's seq: the seq of the activity it comes from, or a room
   * head read before the message was. A write never replaces a newer one, so two search nodes
   * (one applying an edit, one rebuilding the room from older reads) cannot put old text back.
   */
  version: number;
  /** The room seq of the message's creation: a former member reaches the messages up to their departure. */
  seq: number;
  /** The organization that owns the message's room (RoomRecord.orgId), whose compliance officers search it. */
  orgId?: string;
}

/**
 * The message search index. Owned by the `search` actor, fed after commit: it may lag the
 * rooms store by a moment and is never the source of truth (it can be rebuilt from the
 * activity log). Indexing the same message again replaces it, unless the index holds a newer
 * version (see IndexedMessage.version).
 */
/** A search of the index: every filter is part of the index query, never applied to a page read. */
export interface SearchQuery {
  text: string;
  /** The rooms searched whole (those the searcher is a member of). */
  roomIds: string[];
  /** Rooms searched up to a seq: roomId → the last seq (messages created after it are not found). */
  roomsUpTo?: Record<string, number>;
  /** Also every room this organization owns, whole (a compliance officer's search). */
  orgId?: string;
  max: number;
  /** Only messages posted by this person. */
  personId?: string;
  /** Only messages created strictly before / after these instants (ISO 8601 as `toISOString` writes it). */
  before?: string;
  after?: string;
  /** Only messages that mention this person, by name or with @all. */
  mentioning?: string;
  /** Only messages with (true) or without (false) files. */
  hasFiles?: boolean;
  /** The next page: the hits after this one (a hit's `position` from the page before). */
  startAfter?: SearchPosition;
}

/** Where a hit stands in its search's order, opaque outside its adapter (its sort values). */
export type SearchPosition = (string | number)[];

/** A `startAfter` that no search of this index could have answered (a forged or foreign cursor). */
export class InvalidSearchPositionError extends Error {
  override name = 'InvalidSearchPositionError';
}

export interface SearchHit {
  id: string;
  roomId: string;
  position: SearchPosition;
}

export interface SearchIndex {
  /**
   * The index was made empty when opened (it was missing, or an older Squared made it in a
   * format this one cannot update in place), or lacks fields older documents never had: the
   * search actor fills it again from the rooms.
   */
  readonly wantsRebuild: boolean;
  /** Indexes each message unless the index holds a newer version of it (equal versions replace). */
  indexMessages(messages: IndexedMessage[]): Promise<void>;
  /** Removes the message unless the index holds a version newer than `version`. */
  removeMessage(id: string, version: number): Promise<void>;
  /** Removes the room's messages of `version` or older; newer ones (written meanwhile) stay. */
  removeRoom(roomId: string, version: number): Promise<void>;
  /** Best matches first, only among `roomIds` (the rooms the searcher may read), narrowed by the optional filters. */
  search(query: SearchQuery): Promise<SearchHit[]>;
  /**
   * Each room's checkpoint: every activity of the room up to this seq is applied to the index
   * (0 for a room never checkpointed). The search actor's cursor on the room's log.
   */
  checkpoints(roomIds: string[]): Promise<Map<string, number>>;
  /** Raises each room's checkpoint to the seq given; one lower than the stored one changes nothing. */
  raiseCheckpoints(checkpoints: Map<string, number>): Promise<void>;
  /** Makes everything indexed so far searchable (tests; a no-op where search is immediate). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export interface QueueOptions {
  /** Deliveries before a job is dead-lettered. */
  maxAttempts: number;
  /** Delay before the n-th retry: backoffMs * 2^(n-1). */
  backoffMs: number;
  /** Jobs handled at once by this consumer. */
  concurrency: number;
}

export interface DeadLetter {
  job: unknown;
  attempts: number;
  error: string;
}

/**
 * Thrown by a job handler that could not start the job now for a reason that is not the job's
 * (its target already has as many deliveries in flight as it may): the job goes back to the
 * queue and is delivered again with the same attempt number — a deferral spends no attempt.
 * It waits `delayMs` (default: the first retry's delay) at its first deferral, twice that at
 * its second, and so on up to 64×, with up to +50% jitter (storage/defer-backoff.ts).
 */
export class DeferJobError extends Error {
  readonly delayMs: number | undefined;

  constructor(message: string, delayMs?: number) {
    super(message);
    this.name = 'DeferJobError';
    this.delayMs = delayMs;
  }
}

/**
 * Thrown by a job handler when no retry can help now (the target refused it for good, its
 * webhook is disabled): the job goes to the dead letters at once with this error, whatever
 * its attempt, for an operator to requeue once the cause is fixed.
 */
export class DeadLetterJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadLetterJobError';
  }
}

/**
 * Durable work queues (webhook deliveries, notifications). `publish` returns once the job
 * is durably accepted (publisher confirm); a job is delivered at least once to one
 * consumer, retried with exponential backoff when its handler throws, and moved to the
 * queue's dead-letter list after `maxAttempts`. A handler's DeferJobError puts the job back
 * without spending an attempt; its DeadLetterJobError dead-letters the job at once.
 */
export interface WorkQueue {
  publish(queue: string, job: unknown): Promise<void>;
  /** Starts consuming; the returned function stops it after in-flight jobs finish. */
  consume(queue: string, handler: (job: unknown, attempt: number) => Promise<void>, options: QueueOptions): Promise<() => Promise<void>>;
  deadLetters(queue: string, max: number): Promise<DeadLetter[]>;
  /** What an operator sees of a queue: jobs ready to be delivered now, and dead letters. */
  stats(queue: string): Promise<QueueStats>;
  /**
   * Moves up to `max` dead letters, oldest first, back into the queue as new jobs (attempts
   * start again), after their cause was fixed; answers how many moved. A letter that cannot
   * be read as a job is left in place and the ones behind it are still moved (the answer is
   * then below `max` although more remain). At least once: a crash in the middle may leave a
   * moved job among the dead letters too.
   */
  requeueDeadLetters(queue: string, max: number): Promise<number>;
  close(): Promise<void>;
}

export interface QueueStats {
  /** Jobs a consumer may take now (not waiting for a retry, not being handled). */
  ready: number;
  dead: number;
}

/**
 * Thrown by `RoomStore.commit` when a `putIdempotency` names a key that a live record of
 * another write holds (the person sent one key with two requests at once, to two rooms).
 * The fence orders keyed writes to one room; across rooms, the embedded store refuses the
 * second, while Cassandra (whose rooms commit apart) keeps the later record.
 */
export class IdempotencyKeyTakenError extends Error {
  constructor(key: string) {
    super(`idempotency key ${JSON.stringify(key)} answers another write`);
    this.name = 'IdempotencyKeyTakenError';
  }
}

/** Thrown by a store when the (room, seq) slot is already taken: another writer won. */
export class SequenceConflictError extends Error {
  readonly roomId: string;
  readonly seq: number;

  constructor(roomId: string, seq: number) {
    super(`sequence ${seq} of room ${roomId} is already taken`);

    this.roomId = roomId;
    this.seq = seq;
    this.name = 'SequenceConflictError';
  }
}
