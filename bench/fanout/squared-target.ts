// Squared (embedded mode) as a fan-out target: one real process on the bench certificate.
// The set-up through the REST API and the poster are shared with the cluster target
// (squared-setup.ts).
import path from 'node:path';
import { makeTempDir, removeTempDir } from '../lib/children.ts';
import { spawnServer } from '../lib/server-process.ts';
import { installCertFor, type BenchCert } from '../lib/tls.ts';
import { prepareSquared } from './squared-setup.ts';
import type { FanoutTarget } from './target.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Settings every Squared under test gets: no rate limits in the way, quiet logs. */
export const SQUARED_BENCH_ENV = {
  SQUARED_HOST: '127.0.0.1',
  SQUARED_LOG_LEVEL: 'warn',
  SQUARED_RATE_BURST: '1000000',
  SQUARED_RATE_PER_SECOND: '1000000',
};

export async function startSquaredTarget(options: { sockets: number; rooms: number; sync: 'full' | 'normal'; postConns: number; cert: BenchCert; log: (line: string) => void }): Promise<FanoutTarget> {
  const dataDir = makeTempDir('squared-bench-');
  installCertFor(dataDir, options.cert);
  const server = await spawnServer({
    name: 'Squared',
    script: path.join(ROOT, 'squared.ts'),
    cwd: ROOT,
    readyPrefix: 'SQUARED_READY',
    env: { ...SQUARED_BENCH_ENV, SQUARED_DATA_DIR: dataDir, SQUARED_PORT: '0', SQUARED_SYNC: options.sync },
  });
  const stop = async () => {
    await server.stop();
    removeTempDir(dataDir);
  };
  try {
    const url: string = server.ready.url;
    const prepared = await prepareSquared({ ...options, dataDir, restUrls: [url], liveUrls: [url] });
    return { servers: [server], enginePids: [], ...prepared, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
