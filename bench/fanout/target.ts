// What the fan-out scenario needs of a server under test, whatever its shape.
import type { ServerProcess } from '../lib/server-process.ts';
import type { FleetSpec } from './fleet.ts';
import type { Poster } from './load.ts';

export interface FanoutTarget {
  /** The server's processes: one, or every node of a cluster. */
  servers: ServerProcess[];
  /** Engines the server writes to (cluster mode), measured separately. */
  enginePids: number[];
  fleetSpec: FleetSpec;
  poster: Poster & { close(): void };
  stop(): Promise<void>;
}
