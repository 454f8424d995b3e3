// Where a new meeting's media go: the media node with the least load (producers plus
// consumers on its workers; fewer meetings breaks ties). Nodes that do not answer quickly
// are left out. The choice is stored with the meeting, so it outlives the actor.
import type { ServiceBroker } from 'moleculer';
import { ApiError } from '../../contracts/errors.ts';
import type { LiveMeeting } from './live-meeting.ts';

interface NodeLoad {
  nodeID: string;
  load: number;
  meetings: number;
}

export async function placeMeeting(broker: ServiceBroker, exclude: string[] = []): Promise<string> {
  const services = broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }) as { name: string; nodeID: string }[];
  const nodeIDs = [...new Set(services.filter((s) => s.name === 'media' && !exclude.includes(s.nodeID)).map((s) => s.nodeID))];
  const loads = await Promise.allSettled(
    nodeIDs.map(async (nodeID): Promise<NodeLoad> => {
      const { load, meetings } = await broker.call<{ load: number; meetings: number }, object>('media.load', {}, { nodeID, timeout: 2000, retries: 0 });
      return { nodeID, load, meetings };
    }),
  );
  const answered = loads.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (answered.length === 0) throw new ApiError(503, 'No media node is available to host the meeting. Try again later.', 'MEDIA_UNAVAILABLE');
  answered.sort((a, b) => a.load - b.load || a.meetings - b.meetings || a.nodeID.localeCompare(b.nodeID));
  return answered[0].nodeID;
}

/**
 * The media node for a participant entering a meeting: the meeting's nodes in use, home
 * first, while they hold fewer than `perNode` of its participants; past that, the
 * least-loaded media node the meeting does not fill yet (its media are piped between
 * nodes); when every node is full, the least crowded of the meeting's nodes.
 */
export async function nodeForParticipant(broker: ServiceBroker, live: LiveMeeting, perNode: number, exclude: string[] = []): Promise<string> {
  const home = live.meeting.mediaNodeId;
  const counts = new Map<string, number>([[home, 0]]);
  for (const p of live.joined()) {
    const node = p.mediaNodeId ?? home;
    counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  const usable = [...counts.keys()].filter((node) => !exclude.includes(node) && broker.registry.nodes.get(node)?.available);
  const roomy = usable.find((node) => counts.get(node)! < perNode);
  if (roomy) return roomy;
  try {
    return await placeMeeting(broker, [...exclude, ...counts.keys()]);
  } catch (err) {
    if (usable.length === 0) throw err;
    return usable.reduce((a, b) => (counts.get(b)! < counts.get(a)! ? b : a));
  }
}
