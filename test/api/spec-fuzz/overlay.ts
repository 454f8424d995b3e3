// What the spec fuzzer is given on top of the Webex copies in clients/openapi/ (which stay as
// Webex published them, see their NOTICE): OpenAPI links from each create to the operations
// that use what it made, so the stateful phase works on real ids; and the deviations listed
// in schemathesis.toml that no Schemathesis setting can state (and the https link and name a
// room tab needs, so that the fuzzer's tabs are made; the corrected Attachment schema of the
// spec check, so that its messages carry cards that can be acted on): a top-level body field sent
// as `null` is treated as absent (README, Webex conventions), the people and meeting fields
// Squared does not implement are ignored, a PUT of a person, room or membership is partial, and a meeting
// may be created without start and end.

import { SPEC_CORRECTIONS } from '../../../clients/openapi-check.ts';

type Json = Record<string, any>;

/** A link's target and what it takes from the response (OpenAPI runtime expressions). */
interface LinkTo {
  operationId: string;
  parameters?: Record<string, string>;
  requestBody?: Record<string, string>;
}

const id = '$response.body#/id';

/** Source operation (`METHOD /path`) → the operations its 2xx response feeds. */
const MESSAGING_LINKS: Record<string, Record<string, LinkTo>> = {
  'POST /people': {
    GetPerson: { operationId: 'Get Person Details', parameters: { 'path.personId': id } },
    UpdatePerson: { operationId: 'Update a Person', parameters: { 'path.personId': id } },
    DeletePerson: { operationId: 'Delete a Person', parameters: { 'path.personId': id } },
  },
  'POST /rooms': {
    GetRoom: { operationId: 'Get Room Details', parameters: { 'path.roomId': id } },
    UpdateRoom: { operationId: 'Update a Room', parameters: { 'path.roomId': id } },
    DeleteRoom: { operationId: 'Delete a Room', parameters: { 'path.roomId': id } },
    ListMemberships: { operationId: 'List Memberships', parameters: { 'query.roomId': id } },
    CreateMembership: { operationId: 'Create a Membership', requestBody: { roomId: id } },
    ListMessages: { operationId: 'List Messages', parameters: { 'query.roomId': id } },
    CreateMessage: { operationId: 'Create a Message', requestBody: { roomId: id } },
    ListRoomTabs: { operationId: 'List Room Tabs', parameters: { 'query.roomId': id } },
    CreateRoomTab: { operationId: 'Create a Room Tab', requestBody: { roomId: id } },
    GetRoomMeetingInfo: { operationId: 'Get Room Meeting Details', parameters: { 'path.roomId': id } },
  },
  'POST /room/tabs': {
    GetRoomTab: { operationId: 'Get Room Tab Details', parameters: { 'path.id': id } },
    UpdateRoomTab: { operationId: 'Update a Room Tab', parameters: { 'path.id': id }, requestBody: { roomId: '$response.body#/roomId' } },
    DeleteRoomTab: { operationId: 'Delete a Room Tab', parameters: { 'path.id': id } },
  },
  'POST /memberships': {
    GetMembership: { operationId: 'Get Membership Details', parameters: { 'path.membershipId': id } },
    UpdateMembership: { operationId: 'Update a Membership', parameters: { 'path.membershipId': id } },
    DeleteMembership: { operationId: 'Delete a Membership', parameters: { 'path.membershipId': id } },
  },
  'POST /messages': {
    GetMessage: { operationId: 'Get Message Details', parameters: { 'path.messageId': id } },
    EditMessage: { operationId: 'Edit a Message', parameters: { 'path.messageId': id }, requestBody: { roomId: '$response.body#/roomId' } },
    DeleteMessage: { operationId: 'Delete a Message', parameters: { 'path.messageId': id } },
    ListThread: { operationId: 'List Messages', parameters: { 'query.roomId': '$response.body#/roomId', 'query.parentId': id } },
    SubmitCard: { operationId: 'Create an Attachment Action', requestBody: { messageId: id } },
    Reply: { operationId: 'Create a Message', requestBody: { roomId: '$response.body#/roomId', parentId: id } },
  },
  'POST /attachment/actions': {
    GetAttachmentAction: { operationId: 'Get Attachment Action Details', parameters: { 'path.id': id } },
  },
  'POST /teams': {
    GetTeam: { operationId: 'Get Team Details', parameters: { 'path.teamId': id } },
    UpdateTeam: { operationId: 'Update a Team', parameters: { 'path.teamId': id } },
    DeleteTeam: { operationId: 'Delete a Team', parameters: { 'path.teamId': id } },
    ListTeamMemberships: { operationId: 'listTeamMemberships', parameters: { 'query.teamId': id } },
    CreateTeamMembership: { operationId: 'createTeamMembership', requestBody: { teamId: id } },
    CreateTeamRoom: { operationId: 'Create a Room', requestBody: { teamId: id } },
    ListTeamRooms: { operationId: 'List Rooms', parameters: { 'query.teamId': id } },
  },
  'POST /team/memberships': {
    GetTeamMembership: { operationId: 'Get Team Membership Details', parameters: { 'path.membershipId': id } },
    UpdateTeamMembership: { operationId: 'Update a Team Membership', parameters: { 'path.membershipId': id } },
    DeleteTeamMembership: { operationId: 'Delete a Team Membership', parameters: { 'path.membershipId': id } },
  },
};

const MEETING_LINKS: Record<string, Record<string, LinkTo>> = {
  'POST /meetings': {
    GetMeeting: { operationId: 'getMeetingById', parameters: { 'path.meetingId': id } },
    UpdateMeeting: { operationId: 'updateMeeting', parameters: { 'path.meetingId': id } },
    PatchMeeting: { operationId: 'patchMeeting', parameters: { 'path.meetingId': id } },
    DeleteMeeting: { operationId: 'deleteMeeting', parameters: { 'path.meetingId': id } },
    ListParticipants: { operationId: 'List Meeting Participants', parameters: { 'query.meetingId': id } },
    QueryParticipants: { operationId: 'Query Meeting Participants with Email', parameters: { 'query.meetingId': id } },
  },
};

/**
 * The fields of these Webex request bodies that Squared acts on; it ignores the others
 * (calling, licensing and address data of people; webinar, live stream, registration and
 * breakout settings of meetings), whatever their value.
 */
const PERSON_FIELDS = new Set(['emails', 'displayName', 'firstName', 'lastName', 'nickName', 'avatar', 'roles']);
const MEETING_FIELDS = new Set(['title', 'agenda', 'password', 'start', 'end', 'timezone', 'enabledJoinBeforeHost', 'roomId', 'adhoc']);
const ACTED_ON: Record<string, Set<string>> = {
  'POST /people': PERSON_FIELDS,
  'PUT /people/{personId}': PERSON_FIELDS,
  'POST /meetings': MEETING_FIELDS,
  'PUT /meetings/{meetingId}': MEETING_FIELDS,
  'PATCH /meetings/{meetingId}': MEETING_FIELDS,
};

/**
 * What Webex's prose asks of fields its schemas leave as any `string` (the deviations of
 * schemathesis.toml), stated so that the fuzzer makes requests Squared takes, and so reaches
 * the answers of those operations: a room tab's link is https, its name not empty.
 */
const TAB_FIELDS: Json = {
  contentUrl: { type: 'string', pattern: '^https://[a-z0-9]{1,20}\\.example\\.com/[a-z0-9/]{0,40}$' },
  displayName: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9 ]{0,40}$' },
};
const FIELD_RULES: Record<string, Json> = { 'POST /room/tabs': TAB_FIELDS, 'PUT /room/tabs/{id}': TAB_FIELDS };

/**
 * Updates that change only the fields given: an administrator lifts a room's read-only state
 * with `isReadOnly` alone, or grants a role without restating a person's name.
 */
const PARTIAL_UPDATES = new Set(['PUT /people/{personId}', 'PUT /rooms/{roomId}', 'PUT /memberships/{membershipId}']);

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function operations(spec: Json): Array<[string, Json]> {
  return Object.entries(spec.paths as Json).flatMap(([path, item]) =>
    HTTP_METHODS.filter((method) => item[method]).map((method): [string, Json] => [`${method.toUpperCase()} ${path}`, item[method]]));
}

function resolve(spec: Json, schema: Json): Json {
  if (typeof schema.$ref !== 'string') return schema;
  return schema.$ref.slice(2).split('/').reduce((node: Json, key: string) => node[key.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
}

/**
 * The request body `schema` of operation `name` as Squared reads it. A copy even when the
 * body was a `$ref`, so that no response schema sharing the component changes (Squared never
 * sends a `null`, nor leaves out what the spec requires of a response).
 */
function squaredRequestBody(spec: Json, name: string, schema: Json): Json {
  const body = structuredClone(resolve(spec, schema));
  if (body.type !== 'object' || !body.properties) return body;
  const actedOn = ACTED_ON[name];
  if (actedOn) for (const field of Object.keys(body.properties)) if (!actedOn.has(field)) body.properties[field] = {};
  if (PARTIAL_UPDATES.has(name)) delete body.required;
  for (const [field, rule] of Object.entries(FIELD_RULES[name] ?? {})) body.properties[field] = { ...body.properties[field], ...rule };
  // A meeting created without start and end starts now (as an ad-hoc one does in Webex).
  if (name === 'POST /meetings') body.required = body.required.filter((field: string) => field !== 'start' && field !== 'end');
  // Optional top-level fields accept `null`, read as absent.
  const required = new Set<string>(body.required ?? []);
  for (const [field, property] of Object.entries(body.properties as Record<string, Json>)) {
    if (required.has(field)) continue;
    // OpenAPI 3.0 `nullable` does not widen an `enum` that leaves null out.
    body.properties[field] = Array.isArray(property.enum) ? { ...property, nullable: true, enum: [...property.enum, null] } : { ...property, nullable: true };
  }
  return body;
}

/** `spec` (one of the Webex copies) as the fuzzer runs it: with links and null-as-absent. */
export function fuzzedSpec(original: Json): Json {
  const spec = structuredClone(original);
  // The schemas the spec check corrects (clients/openapi-check.ts): a message's attachments are
  // Adaptive Cards, in the requests the fuzzer makes as in the answers it checks.
  for (const name of Object.keys(SPEC_CORRECTIONS)) if (spec.components?.schemas?.[name]) spec.components.schemas[name] = structuredClone(SPEC_CORRECTIONS[name]);
  const links = spec.paths['/meetings'] ? MEETING_LINKS : MESSAGING_LINKS;
  const byName = new Map(operations(spec));
  const operationIds = new Set([...byName.values()].map((operation) => operation.operationId));
  for (const [source, targets] of Object.entries(links)) {
    const operation = byName.get(source);
    if (!operation) throw new Error(`fuzz overlay: no operation ${source} in the spec`);
    for (const target of Object.values(targets)) if (!operationIds.has(target.operationId)) throw new Error(`fuzz overlay: no operation ${target.operationId}`);
    const created = operation.responses['200'] ?? operation.responses['201'] ?? operation.responses['202'];
    created.links = { ...created.links, ...targets };
  }
  for (const [name, operation] of byName) {
    for (const media of Object.values((operation.requestBody?.content ?? {}) as Record<string, Json>)) {
      if (media.schema) media.schema = squaredRequestBody(spec, name, media.schema);
    }
  }
  return spec;
}
