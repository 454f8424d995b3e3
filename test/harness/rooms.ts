// Helpers the API tests share: rooms with members, and following Webex paging links.
import assert from 'node:assert/strict';
import type { ApiClient, ApiResponse } from '../../clients/api-client.ts';
import type { TestPerson } from './people.ts';

export interface Room { id: string; title: string; type: string; isLocked: boolean; isAnnouncementOnly: boolean; isReadOnly?: boolean; creatorId: string; created: string; lastActivity: string; teamId?: string }
export interface Membership { id: string; roomId: string; personId: string; personEmail: string; personDisplayName: string; isModerator: boolean; isRoomHidden: boolean; roomType: string }

export function expectStatus(response: ApiResponse, status: number, what = ''): void {
  assert.equal(response.status, status, `${what} expected ${status}, got ${response.status}: ${response.text}`);
}

export async function createRoom(owner: TestPerson, body: Record<string, unknown> = {}): Promise<Room> {
  const response = await owner.api.post('/v1/rooms', { title: `room ${Math.random().toString(36).slice(2, 8)}`, ...body });
  expectStatus(response, 200, 'create room');
  return response.body;
}

export async function addMember(by: TestPerson, roomId: string, person: TestPerson, extra: Record<string, unknown> = {}): Promise<Membership> {
  const response = await by.api.post('/v1/memberships', { roomId, personId: person.id, ...extra });
  expectStatus(response, 200, 'add member');
  return response.body;
}

export async function roomWith(owner: TestPerson, members: TestPerson[], body: Record<string, unknown> = {}): Promise<Room> {
  const room = await createRoom(owner, body);
  for (const member of members) await addMember(owner, room.id, member);
  return room;
}

export async function membershipOf(viewer: TestPerson, roomId: string, personId: string): Promise<Membership> {
  const response = await viewer.api.get(`/v1/memberships?roomId=${encodeURIComponent(roomId)}&personId=${encodeURIComponent(personId)}`);
  expectStatus(response, 200, 'membership lookup');
  assert.equal(response.body.items.length, 1, `exactly one membership of ${personId}`);
  return response.body.items[0];
}

/** The `Link: <url>; rel="next"` target, checking there is exactly one and it is absolute https on this server. */
export function nextLink(response: ApiResponse, baseUrl: string): string | undefined {
  const link = response.headers['link'];
  if (link === undefined) return undefined;
  assert.equal(typeof link, 'string', 'a single Link header');
  const match = /^<(https:\/\/[^>\s]+)>; rel="next"$/.exec(link as string);
  assert.ok(match, `exactly one Link with an absolute https URL and rel="next", got: ${link}`);
  assert.equal(new URL(match[1]).origin, new URL(baseUrl).origin, 'the Link points at this server');
  return match[1];
}

/** Follows Link headers from the first page to the last, returning each page's items. */
export async function allPages<T>(api: ApiClient, first: string): Promise<T[][]> {
  const pages: T[][] = [];
  let url: string | undefined = first;
  while (url) {
    const response: ApiResponse = await api.get(url);
    expectStatus(response, 200, `GET ${url}`);
    pages.push(response.body.items);
    url = nextLink(response, api.baseUrl);
    assert.ok(pages.length < 50, 'paging terminates');
  }
  return pages;
}
