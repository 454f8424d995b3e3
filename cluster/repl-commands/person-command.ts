// `person <personId|email>`: a person (`people.resolve`) and the rooms they are in, with each
// room's head and where they joined (`rooms.liveRooms`). Presence (status, devices) does not
// exist yet, and no action lists a person's tokens or live sockets: the output says so.
import type { ServiceBroker } from 'moleculer';
import { CommandError, callAction, type OperatorCommand } from './command.ts';
import { fields, table } from './table.ts';

interface Person {
  id: string;
  emails: string[];
  displayName: string;
  type?: string;
  roles?: string[];
  created?: string;
}

export const personCommand: OperatorCommand = {
  name: 'person',
  args: ['personIdOrEmail'],
  description: 'A person: their record and rooms (presence and sessions are not tracked yet)',
  async run(broker: ServiceBroker, { personIdOrEmail }) {
    const query = personIdOrEmail.includes('@') ? { email: personIdOrEmail.toLowerCase() } : { personId: personIdOrEmail };
    const person = await callAction<Person | null>(broker, 'people.resolve', query);
    if (!person) throw new CommandError(`no person ${personIdOrEmail}.`);
    const rooms = await callAction<{ roomId: string; head: number; joinedSeq: number }[]>(broker, 'rooms.liveRooms', { personId: person.id });
    return [
      fields([
        ['person', person.id], ['emails', person.emails.join(', ')], ['name', person.displayName], ['type', person.type],
        ['roles', person.roles?.join(', ')], ['created', person.created], ['rooms', rooms.length],
        ['presence', 'not tracked yet (status and devices come with presence)'],
        ['sessions', 'not reported yet (no action lists a person\'s tokens or live sockets)'],
      ]),
      table(['room', 'head seq', 'joined at seq'], rooms.map((r) => [r.roomId, r.head, r.joinedSeq])),
    ].join('\n\n');
  },
};
