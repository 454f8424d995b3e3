// `person <personId|email>`: a person (`people.resolve`) and the rooms they are in, with each
// room's head and where they joined (`rooms.liveRooms`), and their live sessions on each
// gateway (`gateway.operatorSessions`). Presence (status) does not exist yet: the output says so.
import type { ServiceBroker } from 'moleculer';
import { CommandError, askEvery, callAction, type OperatorCommand } from './command.ts';
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
  description: 'A person: their record, rooms and live sessions (presence is not tracked yet)',
  async run(broker: ServiceBroker, { personIdOrEmail }) {
    const query = personIdOrEmail.includes('@') ? { email: personIdOrEmail.toLowerCase() } : { personId: personIdOrEmail };
    const person = await callAction<Person | null>(broker, 'people.resolve', query);
    if (!person) throw new CommandError(`no person ${personIdOrEmail}.`);
    const rooms = await callAction<{ roomId: string; head: number; joinedSeq: number }[]>(broker, 'rooms.liveRooms', { personId: person.id });
    const sessions = await askEvery<{ sessionId: string; openedAt: string }[]>(broker, 'gateway.operatorSessions', { personId: person.id });
    const live = sessions.answers.flatMap(({ nodeID, value }) => value.map((session) => [nodeID, session.sessionId, session.openedAt]));
    return [
      fields([
        ['person', person.id], ['emails', person.emails.join(', ')], ['name', person.displayName], ['type', person.type],
        ['roles', person.roles?.join(', ')], ['created', person.created], ['rooms', rooms.length],
        ['presence', 'not tracked yet (status comes with presence)'], ['live sessions', live.length],
      ]),
      table(['room', 'head seq', 'joined at seq'], rooms.map((r) => [r.roomId, r.head, r.joinedSeq])),
      table(['gateway', 'live session', 'opened'], live),
    ].join('\n\n') + (sessions.silent.length > 0 ? `\nnot answering, their sessions not shown: ${sessions.silent.join(', ')}` : '');
  },
};
