// `room <roomId>`: who owns a room (the node its writes are routed to, routing/owner-strategy.ts),
// its head seq, a write that won its fence and is not applied yet (Cassandra: its writer died
// or is slow; reading the head, as this command then does, completes it), and its members, as
// the owner sees them (`rooms.operatorRoom`), and the live sockets following it on each
// gateway (`gateway.operatorFollowers`).
import type { ServiceBroker } from 'moleculer';
import type { UnappliedWrite } from '../../storage/interfaces.ts';
import { ownerOf } from '../../routing/owner-strategy.ts';
import { CommandError, askEvery, callAction, type OperatorCommand } from './command.ts';
import { fields, table } from './table.ts';

interface OperatorRoom {
  room: { id: string; title: string; type: string; teamId?: string; isLocked: boolean; isReadOnly: boolean; created: string; lastActivity: string };
  head: number;
  unapplied: UnappliedWrite | null;
  members: { personId: string; email: string; displayName: string; isModerator: boolean; joinedSeq: number }[];
  moreMembers: boolean;
}

export const roomCommand: OperatorCommand = {
  name: 'room',
  args: ['roomId'],
  description: 'A room: its owner node, head seq, pending fenced write, members and live followers per gateway',
  async run(broker: ServiceBroker, { roomId }) {
    // The owner of the room's writes: where gateways route a post into it.
    const owner = ownerOf(broker, 'rooms.createMessage', { roomId });
    if (!owner) throw new CommandError('no node offers the rooms actor right now.');
    const found = await callAction<OperatorRoom | null>(broker, 'rooms.operatorRoom', { roomId }, owner);
    if (!found) throw new CommandError(`no room ${roomId}.`);
    const { room, head, unapplied, members, moreMembers } = found;
    const pending = unapplied
      ? `seq ${unapplied.firstSeq}${unapplied.lastSeq > unapplied.firstSeq ? `-${unapplied.lastSeq}` : ''} (${unapplied.events.join(', ')}), applied up to ${unapplied.appliedSeq}: completed by this read`
      : 'none';
    const followers = await askEvery<{ sessions: number; people: number }>(broker, 'gateway.operatorFollowers', { roomId });
    return [
      fields([
        ['room', room.id], ['title', room.title], ['type', room.type], ['team', room.teamId],
        ['locked', room.isLocked], ['read-only', room.isReadOnly], ['created', room.created], ['last activity', room.lastActivity],
        ['owner node', owner], ['head seq', head], ['pending fenced write', pending], ['members', `${members.length}${moreMembers ? '+' : ''}`],
      ]),
      table(['person', 'email', 'name', 'moderator', 'joined at seq'], members.map((m) => [m.personId, m.email, m.displayName, m.isModerator, m.joinedSeq])),
      table(['gateway', 'live followers (sockets)', 'people'], followers.answers.map(({ nodeID, value }) => [nodeID, value.sessions, value.people])),
    ].join('\n\n') + (followers.silent.length > 0 ? `\nnot answering, their followers not counted: ${followers.silent.join(', ')}` : '');
  },
};
