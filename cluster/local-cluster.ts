// A multi-process Squared cluster on this machine, against the engines of cluster/engines:
// actor nodes first (they migrate the schema), then gateways, each a real process with its
// roles. Used by `npm run cluster` and by the cluster-mode tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ensureCertificate } from '../gateway/tls.ts';
import { stopProcess } from './stop-process.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The engines cluster/engines/up.sh starts, unless the environment names others. */
export function localEngineEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return {
    SQUARED_NATS: env.SQUARED_NATS ?? 'nats://127.0.0.1:4222',
    SQUARED_CASSANDRA: env.SQUARED_CASSANDRA ?? '127.0.0.1:9042',
    SQUARED_REDIS: env.SQUARED_REDIS ?? 'redis://127.0.0.1:6379',
    SQUARED_ELASTICSEARCH: env.SQUARED_ELASTICSEARCH ?? 'http://127.0.0.1:9200',
    SQUARED_RABBITMQ: env.SQUARED_RABBITMQ ?? 'amqp://guest:guest@127.0.0.1:5672',
  };
}

export interface ClusterNode {
  name: string;
  roles: string;
  env: Record<string, string>;
  child: ChildProcess;
  /** The gateway's base URL (gateways only); after a restart it may differ unless `basePort` was given. */
  url?: string;
  /** Where this node wrote the first administrator's credentials, if it created them. */
  adminCredentials?: string;
  output(): string;
}

export interface LocalClusterOptions {
  gateways: number;
  actors: number;
  /** Media nodes (mediasoup workers), 1 unless said otherwise. */
  media?: number;
  /** Gateways listen on basePort, basePort + 1, …; 0 picks free ports. */
  basePort?: number;
  dataDir: string;
  /** A fresh namespace, keyspace and key prefix isolate this cluster from others on the same engines. */
  isolated?: boolean;
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export interface LocalCluster {
  nodes: ClusterNode[];
  gateways(): ClusterNode[];
  actors(): ClusterNode[];
  media(): ClusterNode[];
  dataDir: string;
  /** Sends a signal to one node and waits for it to exit. */
  kill(node: ClusterNode, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a node again with its original settings. */
  restart(node: ClusterNode): Promise<ClusterNode>;
  stop(): Promise<void>;
}

export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  fs.mkdirSync(options.dataDir, { recursive: true });
  // One certificate for every gateway, made before any starts, so they never race to write it.
  await ensureCertificate(options.dataDir, ['127.0.0.1']);
  const tag = randomBytes(4).toString('hex');
  const shared: Record<string, string> = {
    ...localEngineEnv(),
    SQUARED_DATA_DIR: options.dataDir,
    ...(options.isolated
      ? { SQUARED_NAMESPACE: `squared-${tag}`, SQUARED_CASSANDRA_KEYSPACE: `squared_${tag}`, SQUARED_REDIS_PREFIX: `squared:${tag}:`, SQUARED_ES_INDEX: `squared-messages-${tag}` }
      : {}),
    ...options.env,
  };
  const nodes: ClusterNode[] = [];
  const launch = (name: string, roles: string, port: number | undefined) =>
    spawnNode(name, roles, { ...shared, SQUARED_NODE_ID: `${name}-${tag}`, SQUARED_ROLES: roles, ...(port !== undefined ? { SQUARED_PORT: String(port) } : {}) }, options.log);

  const cluster: LocalCluster = {
    nodes,
    dataDir: options.dataDir,
    gateways: () => nodes.filter((n) => n.roles.includes('gateway')),
    actors: () => nodes.filter((n) => n.roles.includes('actors')),
    media: () => nodes.filter((n) => n.roles === 'media'),
    async kill(node, signal = 'SIGKILL') {
      await stopProcess(node.child, signal, 20_000);
    },
    async restart(node) {
      await stopProcess(node.child, 'SIGTERM', 20_000);
      // A gateway comes back on its port when that was chosen (--base-port). A port the
      // system picked is in the ephemeral range, where by now a client's outgoing
      // connection may hold it: such a gateway picks a new one (see `url`).
      const port = options.basePort && node.url ? Number(new URL(node.url).port) : undefined;
      const again = await spawnNode(node.name, node.roles, { ...node.env, ...(port ? { SQUARED_PORT: String(port) } : {}) }, options.log);
      nodes[nodes.indexOf(node)] = again;
      return again;
    },
    async stop() {
      // Gateways first, so clients are told to go away before the actors leave.
      for (const node of [...cluster.gateways(), ...cluster.actors(), ...cluster.media()]) await stopProcess(node.child, 'SIGTERM', 20_000);
    },
  };
  try {
    // The first actor node alone migrates the schema; the others start after it.
    for (let i = 1; i <= options.actors; i++) nodes.push(await launch(`actors-${i}`, 'actors', undefined));
    nodes.push(...(await Promise.all(Array.from({ length: options.media ?? 1 }, (_, i) => launch(`media-${i + 1}`, 'media', undefined)))));
    const gateways = await Promise.all(Array.from({ length: options.gateways }, (_, i) =>
      launch(`gateway-${i + 1}`, 'gateway', options.basePort ? options.basePort + i : 0)));
    nodes.push(...gateways);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

async function spawnNode(name: string, roles: string, env: Record<string, string>, log?: (line: string) => void): Promise<ClusterNode> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(ROOT, 'squared.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const node: ClusterNode = { name, roles, env, child, output: () => output };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in time:\n${output.slice(-4000)}`)), 90_000);
    const onData = (stream: string) => (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      if (log) for (const line of text.split('\n').filter(Boolean)) log(`[${name}${stream}] ${line}`);
      const ready = /^SQUARED_READY (.+)$/m.exec(output);
      if (ready) {
        clearTimeout(timer);
        const announced = JSON.parse(ready[1]) as { url?: string; adminCredentials?: string };
        node.url = announced.url;
        node.adminCredentials = announced.adminCredentials;
        resolve();
      }
    };
    child.stdout!.on('data', onData(''));
    child.stderr!.on('data', onData(' stderr'));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${output.slice(-4000)}`));
    });
  });
  return node;
}

