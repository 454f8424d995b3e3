// `reindex`: the search index made again from the rooms' messages as they are now
// (`search.rebuild` on one search node, which reads every room through the rooms actor) —
// after a restore, a lost Elasticsearch index, or an index that missed events. Posting and
// searching go on meanwhile; each room's entries are replaced while that room is rebuilt.
import type { ServiceBroker } from 'moleculer';
import { CommandError, nodesOffering, type OperatorCommand } from './command.ts';

/** A rebuild reads every message once: a console waits for it longer than for a read. */
const REBUILD_TIMEOUT_MS = 30 * 60_000;

export const reindexCommand: OperatorCommand = {
  name: 'reindex',
  args: [],
  description: 'Rebuild the search index from the rooms\' messages (while serving)',
  async run(broker: ServiceBroker) {
    const [nodeID] = nodesOffering(broker, 'search.rebuild');
    if (!nodeID) throw new CommandError('no node runs the search actor.');
    const done = await broker.call<{ rooms: number; messages: number; ms: number }, object>('search.rebuild', {}, { nodeID, timeout: REBUILD_TIMEOUT_MS, retries: 0 });
    return `search index rebuilt on ${nodeID}: ${done.rooms} rooms, ${done.messages} messages in ${done.ms} ms`;
  },
};
