// `person <personId|email>`: a person (`people.resolve`) and the rooms they are in, with each
// room's head and where they joined (`rooms.liveRooms`), their presence — the status others
// see and what makes it: each device's lease, a manual status, meetings
// (`presence.operatorPerson`) — and their live sessions on each gateway (`gateway.operatorSessions`).
import type { ServiceBroker } from 'moleculer';
import type { OperatorPresence } from '../../actors/presence/operator-actions.ts';
import { CommandError, askEvery, callAction, nodesOffering, type OperatorCommand } from './command.ts';
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
  description: 'A person: their record, rooms, presence (status, devices) and live sessions',
  async run(broker: ServiceBroker, { personIdOrEmail }) {
    const query = personIdOrEmail.includes('@') ? { email: personIdOrEmail.toLowerCase() } : { personId: personIdOrEmail };
    const person = await callAction<Person | null>(broker, 'people.resolve', query);
    if (!person) throw new CommandError(`no person ${personIdOrEmail}.`);
    const rooms = await callAction<{ roomId: string; head: number; joinedSeq: number }[]>(broker, 'rooms.liveRooms', { personId: person.id });
    const sessions = await askEvery<{ sessionId: string; openedAt: string }[]>(broker, 'gateway.operatorSessions', { personId: person.id });
    const live = sessions.answers.flatMap(({ nodeID, value }) => value.map((session) => [nodeID, session.sessionId, session.openedAt]));
    const presence = nodesOffering(broker, 'presence.operatorPerson').length > 0
      ? await callAction<OperatorPresence>(broker, 'presence.operatorPerson', { personId: person.id })
      : undefined;
    const status = presence ? `${presence.view.status}${presence.view.lastActivity ? ` (last active ${presence.view.lastActivity})` : ''}` : 'unknown: no node runs the presence actor';
    return [
      fields([
        ['person', person.id], ['emails', person.emails.join(', ')], ['name', person.displayName], ['type', person.type],
        ['roles', person.roles?.join(', ')], ['created', person.created], ['rooms', rooms.length],
        ['presence', status], ['manual status', presence?.manual ? `${presence.manual.status}${presence.manual.expires ? ` until ${presence.manual.expires}` : ''}` : 'none'],
        ['in meetings', presence?.meetings.join(', ') || 'none'], ['live sessions', live.length],
      ]),
      table(['room', 'head seq', 'joined at seq'], rooms.map((r) => [r.roomId, r.head, r.joinedSeq])),
      table(['device', 'last activity', 'lease until'], (presence?.devices ?? []).map((d) => [d.deviceId, d.lastActivity, d.expiresAt])),
      table(['gateway', 'live session', 'opened'], live),
    ].join('\n\n') + (sessions.silent.length > 0 ? `\nnot answering, their sessions not shown: ${sessions.silent.join(', ')}` : '');
  },
};
