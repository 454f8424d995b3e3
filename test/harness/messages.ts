// Helpers the message tests share: posting and listing messages as a person, and the
// shapes compared (ids, texts, newest-first order).
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestPerson } from './people.ts';
import { expectStatus } from './rooms.ts';

export interface Message {
  id: string; roomId: string; roomType: string; parentId?: string; text?: string; markdown?: string; html?: string;
  personId: string; personEmail: string; toPersonId?: string; toPersonEmail?: string;
  mentionedPeople?: string[]; mentionedGroups?: string[]; created: string; updated?: string;
}

export async function post(person: TestPerson, body: Record<string, unknown>): Promise<Message> {
  const response = await person.api.post('/v1/messages', body);
  expectStatus(response, 200, 'post message');
  return response.body;
}

export const say = (person: TestPerson, roomId: string, text: string) => post(person, { roomId, text });

/** Posts messages one after the other, a few ms apart so their created times differ. */
export async function postInOrder(person: TestPerson, roomId: string, count: number, prefix = 'm'): Promise<Message[]> {
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) {
    messages.push(await say(person, roomId, `${prefix}${i}`));
    await sleep(3);
  }
  return messages;
}

export async function list(person: TestPerson, query: string): Promise<Message[]> {
  const response = await person.api.get(`/v1/messages?${query}`);
  expectStatus(response, 200, `list messages ${query}`);
  return response.body.items;
}

export const ids = (items: { id: string }[]) => items.map((item) => item.id);
export const texts = (items: Message[]) => items.map((item) => item.text);
export const newestFirst = (items: Message[]) => ids(items).reverse();
