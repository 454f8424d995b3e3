// Validates Squared's HTTP responses against the published Webex Messaging OpenAPI spec
// and the meetings subset of the Webex Meetings spec (copies in test/openapi, see NOTICE.md there).
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

interface MediaType { schema?: object }
interface ResponseObject { content?: Record<string, MediaType> }
interface Operation { responses?: Record<string, ResponseObject> }
interface OpenApiDoc { paths: Record<string, Record<string, Operation | undefined>> }

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const SPEC_ID = 'webex-messaging.openapi.json';
export const spec: OpenApiDoc = JSON.parse(
  readFileSync(new URL(`./openapi/${SPEC_ID}`, import.meta.url), 'utf8'),
);

/**
 * Where the spec copy is known to be wrong about what Webex answers, it is corrected here,
 * in memory (the file stays as published, NOTICE.md). The spec's `Attachment` is
 * `{content: File}` (an enterprise content file), but a message's `attachments` are
 * Adaptive Cards, `{contentType: 'application/vnd.microsoft.card.adaptive', content: {card}}`,
 * as Webex's Buttons and Cards guide and its answers show.
 */
export const SPEC_CORRECTIONS: Record<string, object> = {
  Attachment: {
    type: 'object',
    required: ['contentType', 'content'],
    properties: { contentType: { type: 'string', enum: ['application/vnd.microsoft.card.adaptive'] }, content: { type: 'object' } },
  },
};
Object.assign((spec as unknown as { components: { schemas: Record<string, object> } }).components.schemas, SPEC_CORRECTIONS);

const MEETINGS_ID = 'webex-meetings-subset.openapi.json';
const meetingsSpec: OpenApiDoc = JSON.parse(readFileSync(new URL(`./openapi/${MEETINGS_ID}`, import.meta.url), 'utf8'));

/** Paths (templates, without /v1) that Squared serves beyond the spec; callers may add to it. */
export const extensions = new Set<string>([
  '/access_token', '/rooms/{roomId}/read', '/messages/search',
  '/people/me/pushSubscriptions', '/people/me/pushSubscriptions/{subscriptionId}', '/push/vapidPublicKey', '/people/me/status',
  // A person's generated default avatar (docs/previews.md, Avatars): an SVG, not JSON.
  '/avatars/default/{file}', '/people/{personId}/avatar', '/avatars/{version}/{rendition}',
  // A message's file, as Webex serves it at that path (docs/files.md); its body is the file.
  '/contents/{contentId}',
  // Webex's Admin Audit Events API, which is not in the messaging spec copied here: held to
  // the shape of Webex's reference, written below (docs/admin.md).
  '/adminAudit/events', '/adminAudit/eventCategories',
  // The organization's usage figures, for its administrators (docs/admin.md).
  '/organizations/{orgId}/usage',
  // An administrator revokes every token of a person (docs/admin.md): 204.
  '/people/{personId}/tokens',
  // The organization's message retention policy, for its administrators (docs/admin.md).
  '/organizations/{orgId}/retention',
  // The preview image of a message's file (docs/previews.md): its body is a WebP or PNG.
  '/contents/{contentId}/preview',
]);

const count = { type: 'integer', minimum: 0 };
// GET /v1/organizations/{orgId}/usage (docs/admin.md).
const orgUsageSchema = {
  type: 'object',
  required: ['orgId', 'generated', 'days', 'people', 'activePeople', 'rooms', 'messagesPerDay', 'live', 'meetings', 'complete'],
  additionalProperties: false,
  properties: {
    orgId: { type: 'string' }, generated: { type: 'string', format: 'date-time' }, days: { type: 'integer', minimum: 1, maximum: 30 },
    people: { type: 'object', required: ['total', 'persons', 'bots'], additionalProperties: false, properties: { total: count, persons: count, bots: count } },
    activePeople: { type: 'object', required: ['lastDay', 'last7Days', 'last30Days'], additionalProperties: false, properties: { lastDay: count, last7Days: count, last30Days: count } },
    rooms: { type: 'object', required: ['total', 'group', 'direct'], additionalProperties: false, properties: { total: count, group: count, direct: count } },
    messagesPerDay: { type: 'array', items: { type: 'object', required: ['date', 'messages'], additionalProperties: false, properties: { date: { type: 'string', format: 'date' }, messages: count } } },
    live: { type: 'object', required: ['sockets', 'people'], additionalProperties: false, properties: { sockets: count, people: count } },
    meetings: { type: 'object', required: ['held', 'minutes', 'participantMinutes'], additionalProperties: false, properties: { held: count, minutes: count, participantMinutes: count } },
    complete: { type: 'boolean' },
  },
};

// GET/PUT /v1/organizations/{orgId}/retention (docs/admin.md): days per room type, null for forever.
const retentionDays = { type: ['integer', 'null'], minimum: 1, maximum: 36_500 };
const retentionSchema = {
  type: 'object',
  required: ['orgId', 'directDays', 'groupDays'],
  additionalProperties: false,
  properties: { orgId: { type: 'string' }, directDays: retentionDays, groupDays: retentionDays, updated: { type: 'string', format: 'date-time' }, updatedBy: { type: 'string' } },
};

// An administrator's audit event, in Webex's shape (docs/admin.md).
const auditEventSchema = {
  type: 'object',
  required: ['id', 'orgId', 'actorId', 'actorOrgId', 'created', 'data'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' }, orgId: { type: 'string' }, actorId: { type: 'string' }, actorOrgId: { type: 'string' }, created: { type: 'string', format: 'date-time' },
    data: {
      type: 'object',
      required: ['actorName', 'actorEmail', 'adminRoles', 'eventCategory', 'eventDescription', 'actionText', 'targetId', 'targetType', 'targetName', 'trackingId'],
      additionalProperties: false,
      properties: {
        actorName: { type: 'string' }, actorEmail: { type: 'string' }, actorOrgName: { type: 'string' },
        adminRoles: { type: 'array', items: { type: 'string', enum: ['Full_Admin', 'Compliance_Officer', 'User'] } },
        eventCategory: { type: 'string' }, eventDescription: { type: 'string' }, actionText: { type: 'string' },
        targetId: { type: 'string' }, targetType: { type: 'string' }, targetName: { type: 'string' }, targetOrgId: { type: 'string' },
        trackingId: { type: 'string' }, actorIp: { type: 'string' }, actorUserAgent: { type: 'string' },
      },
    },
  },
};

// A Web Push subscription of the caller, as Squared answers it (docs/notifications.md).
const pushSubscriptionSchema = {
  type: 'object',
  required: ['id', 'personId', 'endpoint', 'created'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' }, personId: { type: 'string' }, endpoint: { type: 'string', format: 'uri' },
    expirationTime: { type: 'integer', minimum: 0 }, created: { type: 'string', format: 'date-time' },
  },
};

// Response schemas for the extensions we know, written as a mini OpenAPI document so spec and
// extensions share one lookup. /access_token answers in RFC 6749 §5.1/§5.2 shape, not Webex's.
const EXTENSIONS_ID = 'squared-extensions.json';
const extensionDoc: OpenApiDoc = {
  paths: {
    // The caller's Web Push subscriptions and the server's VAPID public key (docs/notifications.md).
    '/people/me/pushSubscriptions': {
      get: { responses: { '200': json({ type: 'object', required: ['items'], properties: { items: { type: 'array', items: pushSubscriptionSchema } } }) } },
      post: { responses: { '200': json(pushSubscriptionSchema) } },
    },
    '/people/me/pushSubscriptions/{subscriptionId}': {
      get: { responses: { '200': json(pushSubscriptionSchema) } },
      delete: { responses: { '204': {} } },
    },
    '/push/vapidPublicKey': {
      get: { responses: { '200': json({ type: 'object', required: ['publicKey'], additionalProperties: false, properties: { publicKey: { type: 'string', pattern: '^[A-Za-z0-9_-]{87}$' } } }) } },
    },
    // The caller's messages that match a query (docs/search.md): Webex messages, best first.
    '/messages/search': {
      get: {
        responses: {
          '200': json({
            type: 'object',
            required: ['items', 'indexBehind'],
            properties: {
              // How far the index is behind the logs of the rooms searched (docs/search.md).
              indexBehind: { type: 'object', required: ['rooms', 'activities'], additionalProperties: false, properties: { rooms: count, activities: count } },
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['id', 'roomId', 'roomType', 'personId', 'personEmail', 'created'],
                  properties: {
                    id: { type: 'string' }, roomId: { type: 'string' }, personId: { type: 'string' }, text: { type: 'string' }, created: { type: 'string', format: 'date-time' },
                    // the matched words marked in the text: escaped text and <mark> elements only
                    highlight: { type: 'string', minLength: 1 },
                  },
                },
              },
            },
          }),
        },
      },
    },
    '/adminAudit/events': {
      get: { responses: { '200': json({ type: 'object', required: ['items'], additionalProperties: false, properties: { items: { type: 'array', items: auditEventSchema } } }) } },
    },
    '/organizations/{orgId}/usage': { get: { responses: { '200': json(orgUsageSchema) } } },
    '/organizations/{orgId}/retention': { get: { responses: { '200': json(retentionSchema) } }, put: { responses: { '200': json(retentionSchema) } } },
    '/people/{personId}/tokens': { delete: { responses: { '204': {} } } },
    '/adminAudit/eventCategories': {
      get: { responses: { '200': json({ type: 'object', required: ['eventCategories'], additionalProperties: false, properties: { eventCategories: { type: 'array', items: { type: 'string' } } } }) } },
    },
    // A person's avatar replaced by an uploaded image (docs/previews.md): the person as now.
    '/people/{personId}/avatar': {
      put: {
        responses: {
          '200': json({
            type: 'object',
            required: ['id', 'emails', 'displayName', 'avatar'],
            properties: { id: { type: 'string' }, emails: { type: 'array', items: { type: 'string' } }, displayName: { type: 'string' }, avatar: { type: 'string', format: 'uri' } },
          }),
        },
      },
      delete: { responses: { '204': {} } },
    },
    // The caller's manual presence status (README, Presence): set (PUT) and cleared (DELETE, 204).
    '/people/me/status': {
      put: {
        responses: {
          '200': json({
            type: 'object',
            required: ['status'],
            additionalProperties: false,
            properties: { status: { type: 'string', enum: ['DoNotDisturb', 'OutOfOffice'] }, expires: { type: 'string', format: 'date-time' } },
          }),
        },
      },
      delete: { responses: { '204': {} } },
    },
    // The caller's read status of the room after marking it read (README, Read status).
    '/rooms/{roomId}/read': {
      post: {
        responses: {
          '200': json({
            type: 'object',
            required: ['roomId', 'lastActivityDate', 'unreadCount', 'unreadMentionsCount'],
            properties: {
              roomId: { type: 'string' },
              lastActivityDate: { type: 'string', format: 'date-time' },
              lastSeenId: { type: 'string' },
              lastSeenActivityDate: { type: 'string', format: 'date-time' },
              unreadCount: { type: 'integer', minimum: 0 },
              unreadMentionsCount: { type: 'integer', minimum: 0 },
            },
          }),
        },
      },
    },
    '/access_token': {
      post: {
        responses: {
          '200': json({
            type: 'object',
            required: ['access_token', 'token_type', 'expires_in'],
            properties: {
              access_token: { type: 'string' },
              token_type: { type: 'string' },
              expires_in: { type: 'number' },
              refresh_token: { type: 'string' },
              refresh_token_expires_in: { type: 'number' },
            },
          }),
          '4XX': json({
            type: 'object',
            required: ['error'],
            properties: { error: { type: 'string' }, error_description: { type: 'string' } },
          }),
        },
      },
    },
  },
};

// The spec declares error statuses without content, so errors are held to Squared's own shape.
const squaredErrorSchema = {
  type: 'object',
  required: ['message', 'errors', 'trackingId'],
  properties: {
    message: { type: 'string' },
    errors: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['description'], properties: { description: { type: 'string' } } },
    },
    trackingId: { type: 'string' },
  },
};

function json(schema: object): ResponseObject {
  return { content: { 'application/json': { schema } } };
}

// strict: false lets OpenAPI-only keywords (example, x-*, discriminator...) pass; Ajv 8 supports
// `nullable` natively. verbose puts the offending value into errors for readable messages.
const ajv = new Ajv({ strict: false, allErrors: true, verbose: true });
ajvFormats.default(ajv);
// Formats the spec uses but Ajv doesn't know are accepted rather than logged/failed on.
for (const format of new Set([...formatsUsed(spec), ...formatsUsed(meetingsSpec)])) if (!ajv.formats[format]) ajv.addFormat(format, true);
// Whole documents are registered so `#/components/schemas/...` refs resolve in place.
ajv.addSchema(spec, SPEC_ID);
ajv.addSchema(meetingsSpec, MEETINGS_ID);
ajv.addSchema(extensionDoc, EXTENSIONS_ID);
const validateSquaredError = ajv.compile(squaredErrorSchema);

function formatsUsed(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) formatsUsed(item, found);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'format' && typeof value === 'string') found.add(value);
      else formatsUsed(value, found);
    }
  }
  return found;
}

const isParam = (segment: string) => /^\{[^}]+\}$/.test(segment);

/** Finds the template matching a concrete path; literal segments win over parameters, leftmost first. */
export function matchTemplate(templates: Iterable<string>, path: string): string | undefined {
  const segments = path.split('/');
  let best: string | undefined;
  let bestRank = '';
  for (const template of templates) {
    const parts = template.split('/');
    if (parts.length !== segments.length) continue;
    if (!parts.every((p, i) => (isParam(p) ? segments[i] !== '' : p === segments[i]))) continue;
    const rank = parts.map((p) => (isParam(p) ? '1' : '0')).join('');
    if (best === undefined || rank < bestRank) [best, bestRank] = [template, rank];
  }
  return best;
}

/** `/v1/rooms/abc?max=2` (or a full URL) -> `/rooms/abc` */
export function specPath(path: string): string {
  const { pathname } = new URL(path, 'http://squared.invalid');
  return pathname === '/v1' || pathname.startsWith('/v1/') ? pathname.slice(3) || '/' : pathname;
}

function responseFor(operation: Operation, status: number): [string, ResponseObject] | undefined {
  const responses = operation.responses ?? {};
  for (const key of [String(status), `${String(status)[0]}XX`, 'default']) {
    const response = responses[key];
    if (response) return [key, response];
  }
  return undefined;
}

const pointerPart = (s: string) => encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'));
const validators = new Map<string, ValidateFunction | null>();

/** Compiled validator for one documented response, or null if it has no JSON schema. */
export function responseValidator(
  method: string, template: string, statusKey: string, docId: string = SPEC_ID,
): ValidateFunction | null {
  const cacheKey = `${docId} ${method.toLowerCase()} ${template} ${statusKey}`;
  let validate = validators.get(cacheKey);
  if (validate === undefined) {
    const doc = docId === SPEC_ID ? spec : docId === MEETINGS_ID ? meetingsSpec : extensionDoc;
    const content = doc.paths[template]?.[method.toLowerCase()]?.responses?.[statusKey]?.content;
    const mediaType = content && Object.keys(content).find((t) => /^application\/(.+\+)?json\b/.test(t));
    validate = null;
    if (mediaType && content[mediaType].schema) {
      const pointer = ['paths', template, method.toLowerCase(), 'responses', statusKey, 'content', mediaType, 'schema'];
      const ref = `${docId}#/${pointer.map(pointerPart).join('/')}`;
      validate = ajv.getSchema(ref) ?? null;
      if (!validate) throw new Error(`cannot resolve ${ref}`);
    }
    validators.set(cacheKey, validate);
  }
  return validate;
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    let text = `body${e.instancePath} ${e.message}`;
    if (e.keyword === 'enum') {
      text += ` (${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
    }
    if (e.keyword === 'type' || e.keyword === 'enum') {
      const got = Array.isArray(e.data) ? 'an array' : typeof e.data === 'object' && e.data ? 'an object' : JSON.stringify(e.data);
      text += `, got ${String(got).slice(0, 60)}`;
    }
    return text;
  });
}

/** Problems with a response (empty list = conforms). `path` is the concrete request path. */
export function validateResponse(method: string, path: string, status: number, body: unknown): string[] {
  const m = method.toLowerCase();
  const concrete = specPath(path);
  // An extension whose path is all literal (/messages/search) wins over a spec template that
  // would take its last segment for an id (/messages/{messageId}).
  let template = extensions.has(concrete) ? undefined : matchTemplate(Object.keys(spec.paths), concrete);
  let docId = SPEC_ID;
  let operation = template ? spec.paths[template][m] : undefined;
  if (!operation) {
    const meetingTemplate = matchTemplate(Object.keys(meetingsSpec.paths), concrete);
    const meetingOperation = meetingTemplate ? meetingsSpec.paths[meetingTemplate][m] : undefined;
    if (meetingOperation) [template, docId, operation] = [meetingTemplate, MEETINGS_ID, meetingOperation];
  }
  if (!operation) {
    const extension = matchTemplate(extensions, concrete);
    if (!extension) {
      const why = template ? ` (the spec has ${template} but not ${method.toUpperCase()})` : '';
      return [`${method.toUpperCase()} ${concrete} is not in the spec${why}`];
    }
    [template, docId] = [extension, EXTENSIONS_ID];
    // An extension with no documented responses is accepted; only the generic rules apply.
    operation = extensionDoc.paths[extension]?.[m] ?? { responses: { default: {} } };
  }
  const where = `${method.toUpperCase()} ${template} ${status}`;
  const problems: string[] = [];
  const documented = responseFor(operation, status);
  if (!documented) problems.push(`${where}: status ${status} is not documented`);
  const validate = documented ? responseValidator(m, template!, documented[0], docId) : null;

  if (status === 204) {
    if (body !== undefined && body !== '') problems.push(`${where}: a 204 response must have no body`);
  } else if (validate) {
    if (!validate(body)) problems.push(...describe(validate.errors).map((p) => `${where}: ${p}`));
  } else if (status >= 400) {
    if (!validateSquaredError(body)) {
      problems.push(...describe(validateSquaredError.errors).map((p) => `${where} (Squared error shape): ${p}`));
    }
  }
  return problems;
}

export function assertValidResponse(method: string, path: string, status: number, body: unknown): void {
  const problems = validateResponse(method, path, status, body);
  if (problems.length > 0) {
    throw new Error(`${method.toUpperCase()} ${path} -> ${status} does not conform:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Problems of an error body against Squared's (Webex's) error shape. */
export function errorShapeProblems(body: unknown): string[] {
  return validateSquaredError(body) ? [] : describe(validateSquaredError.errors);
}
