// The Squared the API suite talks to. By default each test file starts its own embedded
// process; with SQUARED_TEST_MODE=cluster, its own multi-process cluster (two gateways,
// two actor nodes) on the real engines, isolated by namespace, keyspace and key prefix.
// REST goes to the first gateway and live sockets to the last, so every live test
// crosses nodes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiClient } from '../../clients/api-client.ts';
import { startSquared, type SquaredProcess } from '../harness/squared-process.ts';
import { startLocalCluster, type LocalCluster } from '../../cluster/local-cluster.ts';
import { dropClusterData } from '../../cluster/cluster-data.ts';

export interface Target {
  url: string;
  /** Where live sockets connect: another gateway than `url` in cluster mode. */
  liveUrl: string;
  ca: Buffer;
  /** The administrator's client. */
  admin: ApiClient;
  adminEmail: string;
  mode: 'embedded' | 'cluster';
  /** The embedded process (embedded mode only). */
  process?: SquaredProcess;
  cluster?: LocalCluster;
  /**
   * Kills every process of the target with SIGKILL and starts them again on the same data
   * (embedded: the data directory; cluster: the keyspace). `url`, `liveUrl` and `admin`
   * are those of the restarted processes afterwards.
   */
  crashAndRestart(): Promise<void>;
  stop(): Promise<void>;
}

export const testMode = (): 'embedded' | 'cluster' => (process.env.SQUARED_TEST_MODE === 'cluster' ? 'cluster' : 'embedded');

/**
 * A participant whose socket closed keeps its place this long in the tests (30 s by
 * default): long enough to reconnect, short enough to see the place given up.
 */
export const TEST_RECONNECT_GRACE_MS = 6000;

export async function startTarget(overrides: Record<string, string> = {}): Promise<Target> {
  const env = { SQUARED_MEETING_RECONNECT_GRACE_MS: String(TEST_RECONNECT_GRACE_MS), ...overrides };
  if (testMode() === 'cluster') return startClusterTarget(env);
  let squared = await startSquared({ env });
  const target: Target = {
    url: squared.url,
    liveUrl: squared.url,
    ca: squared.ca,
    admin: new ApiClient(squared.url, squared.ca, squared.adminToken),
    adminEmail: squared.adminEmail,
    mode: 'embedded',
    process: squared,
    async crashAndRestart() {
      squared.child.kill('SIGKILL');
      target.admin.close();
      squared = await squared.restart();
      Object.assign(target, { url: squared.url, liveUrl: squared.url, process: squared, admin: new ApiClient(squared.url, squared.ca, squared.adminToken) });
    },
    async stop() {
      target.admin.close();
      await squared.stop();
    },
  };
  return target;
}

async function startClusterTarget(env: Record<string, string>): Promise<Target> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-cluster-'));
  const cluster = await startLocalCluster({
    gateways: 2, actors: 2, dataDir, isolated: true, log: process.env.SQUARED_TEST_NODE_LOG ? (line) => process.stderr.write(`${line}\n`) : undefined,
    env: { SQUARED_LOG_LEVEL: process.env.SQUARED_TEST_LOG_LEVEL ?? 'warn', ...env },
  });
  const [first, last] = [cluster.gateways()[0], cluster.gateways().at(-1)!];
  const ca = fs.readFileSync(path.join(dataDir, 'tls', 'cert.pem'));
  const credentials = JSON.parse(fs.readFileSync(path.join(dataDir, 'admin.json'), 'utf8'));
  const target: Target = {
    url: first.url!,
    liveUrl: last.url!,
    ca,
    admin: new ApiClient(first.url!, ca, credentials.token),
    adminEmail: credentials.email,
    mode: 'cluster',
    cluster,
    async crashAndRestart() {
      target.admin.close();
      await Promise.all(cluster.nodes.map((node) => cluster.kill(node, 'SIGKILL')));
      for (const node of cluster.actors()) await cluster.restart(node);
      await Promise.all(cluster.gateways().map((node) => cluster.restart(node)));
      const gateways = cluster.gateways();
      Object.assign(target, { url: gateways[0].url, liveUrl: gateways.at(-1)!.url, admin: new ApiClient(gateways[0].url!, ca, credentials.token) });
    },
    async stop() {
      target.admin.close();
      await cluster.stop();
      await dropClusterData(cluster.actors()[0].env);
    },
  };
  return target;
}

/**
 * Embedded: starts a process that killed itself (a fault hook) again on its data directory
 * and `target` follows it. On a new port: the dead process left its accepted connection in
 * TIME-WAIT on the listening port (it closed first), which keeps uWebSockets.js from
 * listening there again for a minute.
 */
export async function restartCrashedEmbedded(target: Target, env: Record<string, string>): Promise<void> {
  const crashed = target.process!;
  target.admin.close();
  const squared = await startSquared({ dataDir: crashed.dataDir, env });
  Object.assign(target, {
    url: squared.url, liveUrl: squared.url, process: squared, admin: new ApiClient(squared.url, squared.ca, squared.adminToken),
    stop: async () => {
      target.admin.close();
      await squared.stop();
    },
  });
}
