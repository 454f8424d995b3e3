// Webex ids are opaque to clients: base64url of `ciscospark://us/<KIND>/<uuid>`. Squared
// uses the encoded string itself as the identifier everywhere, so nothing maps ids at the
// edge; decoding is only needed to check that an id names the right kind of resource.
import { randomUUID } from 'node:crypto';

export type IdKind = 'AUDIT_EVENT' | 'PEOPLE' | 'ROOM' | 'MEMBERSHIP' | 'MESSAGE' | 'TEAM' | 'TEAM_MEMBERSHIP' | 'ORGANIZATION' | 'WEBHOOK' | 'ATTACHMENT_ACTION' | 'ROOM_TAB' | 'PUSH_SUBSCRIPTION' | 'CONTENT';

export function newId(kind: IdKind, uuid: string = randomUUID()): string {
  return Buffer.from(`ciscospark://us/${kind}/${uuid}`).toString('base64url');
}

const ID_PATTERN = /^ciscospark:\/\/[a-z0-9]+\/([A-Z_]+)\/([0-9a-fA-F-]{36})$/;

/** The kind an id names, or undefined when the string is not a Squared/Webex id. */
export function idKind(id: string): IdKind | undefined {
  if (id.length > 200) return undefined;
  const decoded = Buffer.from(id, 'base64').toString('utf8');
  const match = ID_PATTERN.exec(decoded);
  return match ? (match[1] as IdKind) : undefined;
}

export function isIdOf(kind: IdKind, id: unknown): id is string {
  return typeof id === 'string' && idKind(id) === kind;
}
