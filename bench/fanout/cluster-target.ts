// Squared in cluster mode as a fan-out target: a local multi-process cluster (actor nodes,
// then gateways, each its own process with its roles) on the engines that
// `npm run engines:up` started, isolated from other data by a fresh namespace, keyspace,
// key prefix and index, which are dropped afterwards. Live sockets are spread over the
// gateways; each room's posts go through one gateway, and the sockets of the room are on
// another (with 2 gateways and an even room count, every delivery crosses over NATS).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { localEngineEnv } from '../../cluster/local-cluster.ts';
import { dropClusterData } from '../../cluster/cluster-data.ts';
import { makeTempDir, removeTempDir } from '../lib/children.ts';
import { spawnServer, type ServerProcess } from '../lib/server-process.ts';
import { installCertFor, type BenchCert } from '../lib/tls.ts';
import { prepareSquared } from './squared-setup.ts';
import { SQUARED_BENCH_ENV } from './squared-target.ts';
import type { FanoutTarget } from './target.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Pids of the engines cluster/engines/up.sh started on this machine (those it can find). */
export function localEnginePids(): number[] {
  const runDir = path.join(process.env.SQUARED_ENGINES_DIR ?? path.join(os.homedir(), '.squared-engines'), 'run');
  const files = ['nats.pid', 'redis.pid', 'rabbitmq.beam.pid', 'cassandra.pid', 'elasticsearch.pid'];
  const pids: number[] = [];
  for (const file of files) {
    try {
      const pid = Number(fs.readFileSync(path.join(runDir, file), 'utf8').trim());
      if (pid > 0 && fs.existsSync(`/proc/${pid}`)) pids.push(pid);
    } catch {
      // not started by the scripts here: its cost is not measured
    }
  }
  return pids;
}

export async function startClusterTarget(options: { gateways: number; actors: number; sockets: number; rooms: number; postConns: number; cert: BenchCert; log: (line: string) => void }): Promise<FanoutTarget> {
  const dataDir = makeTempDir('squared-bench-cluster-');
  installCertFor(dataDir, options.cert);
  const tag = randomBytes(4).toString('hex');
  const env: Record<string, string> = {
    ...localEngineEnv(),
    ...SQUARED_BENCH_ENV,
    SQUARED_DATA_DIR: dataDir,
    SQUARED_NAMESPACE: `squared-bench-${tag}`,
    SQUARED_CASSANDRA_KEYSPACE: `squared_${tag}`,
    SQUARED_REDIS_PREFIX: `squared:${tag}:`,
    SQUARED_ES_INDEX: `squared-messages-${tag}`,
  };
  const servers: ServerProcess[] = [];
  const spawnNode = (name: string, roles: string) => spawnServer({
    name, script: path.join(ROOT, 'squared.ts'), cwd: ROOT, readyPrefix: 'SQUARED_READY', readyTimeoutMs: 90_000,
    env: { ...env, SQUARED_NODE_ID: `${name}-${tag}`, SQUARED_ROLES: roles, SQUARED_PORT: '0' },
  });
  const stop = async () => {
    // Gateways first, as a real roll-out would.
    for (const server of [...servers].reverse()) await server.stop();
    await dropClusterData(env).catch((err: Error) => options.log(`    could not drop the bench keyspace: ${err.message}`));
    removeTempDir(dataDir);
  };
  try {
    // The first actor node migrates the schema alone; the others follow.
    for (let i = 1; i <= options.actors; i++) servers.push(await spawnNode(`actors-${i}`, 'actors'));
    const gateways = await Promise.all(Array.from({ length: options.gateways }, (_, i) => spawnNode(`gateway-${i + 1}`, 'gateway')));
    servers.push(...gateways);
    const urls = gateways.map((g) => g.ready.url as string);
    options.log(`    cluster: ${options.actors} actor nodes, ${options.gateways} gateways (${urls.join(', ')})`);
    // REST through the gateways in turn by room; live sockets in turn by socket, shifted by
    // one so that a room's posts and most of its sockets are on different gateways.
    const prepared = await prepareSquared({ ...options, dataDir, restUrls: urls, liveUrls: [...urls.slice(1), urls[0]] });
    return { servers, enginePids: localEnginePids(), ...prepared, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
