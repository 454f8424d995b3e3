// Where a new meeting's media go: the media node with the least load (producers plus
// consumers on its workers; fewer meetings breaks ties). Nodes that do not answer quickly
// are left out. The choice is stored with the meeting, so it outlives the actor.
import type { ServiceBroker } from 'moleculer';
import { ApiError } from '../errors.ts';

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
