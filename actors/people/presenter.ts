import type { PersonRecord } from '../../storage/records.ts';

/** A person as the REST API shows them. */
export function presentPerson(person: PersonRecord): Record<string, unknown> {
  return {
    id: person.id,
    emails: person.emails,
    displayName: person.displayName,
    nickName: person.nickName,
    firstName: person.firstName,
    lastName: person.lastName,
    avatar: person.avatar,
    orgId: person.orgId,
    roles: person.roles,
    created: person.created,
    lastModified: person.lastModified,
    type: person.type,
  };
}
