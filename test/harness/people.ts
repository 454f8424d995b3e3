// Test people: created by the administrator with a password, signed in through the OAuth
// password grant, each with an API client holding their own token.
import { randomUUID } from 'node:crypto';
import type { ApiClient } from '../../clients/api-client.ts';

export interface TestPerson {
  id: string;
  email: string;
  displayName: string;
  token: string;
  api: ApiClient;
}

export async function createPerson(admin: ApiClient, name: string, extra: Record<string, unknown> = {}): Promise<TestPerson> {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${randomUUID().slice(0, 8)}@example.com`;
  const password = `pw-${randomUUID()}`;
  const created = await admin.post('/v1/people', { emails: [email], displayName: name, password, ...extra });
  if (created.status !== 200) throw new Error(`could not create ${name}: ${created.status} ${created.text}`);
  const token = await admin.post('/v1/access_token', undefined, { form: { grant_type: 'password', username: email, password }, token: null });
  if (token.status !== 200) throw new Error(`could not sign in ${name}: ${token.status} ${token.text}`);
  return { id: created.body.id, email, displayName: name, token: token.body.access_token, api: admin.as(token.body.access_token) };
}

export async function createPeople(admin: ApiClient, ...names: string[]): Promise<TestPerson[]> {
  return Promise.all(names.map((name) => createPerson(admin, name)));
}

/** A person created by the administrator with a password the test knows (createPerson keeps it to itself). */
export async function personWithPassword(admin: ApiClient, name = 'Pat Password'): Promise<{ id: string; email: string; password: string }> {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${randomUUID().slice(0, 8)}@example.com`;
  const password = `pw-${randomUUID()}`;
  const created = await admin.post('/v1/people', { emails: [email], displayName: name, password });
  if (created.status !== 200) throw new Error(`could not create ${name}: ${created.status} ${created.text}`);
  return { id: created.body.id, email, password };
}
