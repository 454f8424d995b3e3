// `meetings`: the meetings with people in them, each reported by the conferences actor that
// owns it (`conferences.operatorMeetings` on every node offering it), with its media node
// and its participants (their media node, gateway, and whether their socket is connected).
import type { ServiceBroker } from 'moleculer';
import { askEvery, type OperatorCommand } from './command.ts';
import { table } from './table.ts';

interface OperatorMeeting {
  id: string;
  title: string;
  state: string;
  roomId?: string;
  mediaNodeId: string;
  participants: { id: string; displayName: string; email: string; state: string; host: boolean; mediaNodeId: string; gatewayNodeId?: string; connected: boolean }[];
}

export const meetingsCommand: OperatorCommand = {
  name: 'meetings',
  args: [],
  description: 'Live meetings: owner node, media node, participants',
  async run(broker: ServiceBroker) {
    const { answers, silent } = await askEvery<OperatorMeeting[]>(broker, 'conferences.operatorMeetings');
    const reports = answers.map(({ nodeID, value }) => value.map((meeting) => ({ ...meeting, owner: nodeID })));
    const meetings = reports.flat().sort((a, b) => a.id.localeCompare(b.id));
    const unanswered = silent.length > 0 ? `\nnot answering, their meetings not shown: ${silent.join(', ')}` : '';
    if (meetings.length === 0) return `no live meetings (${answers.length + silent.length} conferences nodes asked)${unanswered}`;
    return [
      table(['meeting', 'title', 'state', 'owner node', 'media node', 'participants'],
        meetings.map((m) => [m.id, m.title, m.state, m.owner, m.mediaNodeId, m.participants.length])),
      table(['meeting', 'participant', 'name', 'email', 'state', 'host', 'media node', 'gateway', 'connected'],
        meetings.flatMap((m) => m.participants.map((p) => [m.id, p.id, p.displayName, p.email, p.state, p.host, p.mediaNodeId, p.gatewayNodeId, p.connected]))),
    ].join('\n\n') + unanswered;
  },
};
