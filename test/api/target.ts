// The Squared the API suite talks to. By default each test file starts its own embedded
// process; the same files run unchanged against any other running Squared.
import { ApiClient } from '../harness/api-client.ts';
import { startSquared, type SquaredProcess } from '../harness/squared-process.ts';

export interface Target {
  url: string;
  ca: Buffer;
  /** The administrator's client. */
  admin: ApiClient;
  process: SquaredProcess;
  stop(): Promise<void>;
}

export async function startTarget(env: Record<string, string> = {}): Promise<Target> {
  const squared = await startSquared({ env });
  const admin = new ApiClient(squared.url, squared.ca, squared.adminToken);
  return {
    url: squared.url,
    ca: squared.ca,
    admin,
    process: squared,
    async stop() {
      admin.close();
      await squared.stop();
    },
  };
}
