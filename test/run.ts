// `npm test`: the whole suite in both modes. First the embedded mode (unit, API, media);
// then, when the cluster engines answer, the engine adapters and the same API suite
// against multi-process clusters. In CI the engines must answer: a missing engine fails.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { localEngineEnv } from '../cluster/local-cluster.ts';

const engineEnv = localEngineEnv();
const adapterEnv = {
  SQUARED_NATS: engineEnv.SQUARED_NATS,
  SQUARED_CASSANDRA: engineEnv.SQUARED_CASSANDRA,
  SQUARED_REDIS: engineEnv.SQUARED_REDIS,
  SQUARED_ELASTICSEARCH: engineEnv.SQUARED_ELASTICSEARCH,
  SQUARED_RABBITMQ: engineEnv.SQUARED_RABBITMQ,
};

function runTests(title: string, files: string[], env: Record<string, string>): boolean {
  process.stdout.write(`\n=== ${title}\n`);
  const started = Date.now();
  // No test may hang the suite: each test has a deadline, and a file whose tests are done
  // is ended even if it left a handle open.
  const run = spawnSync(process.execPath, [
    '--disable-warning=ExperimentalWarning', '--test', '--test-concurrency=2',
    '--test-timeout=240000', '--test-force-exit', ...files,
  ], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  process.stdout.write(`=== ${title}: ${run.status === 0 ? 'passed' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s\n`);
  return run.status === 0;
}

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url.includes('://') ? url : `tcp://${url}`);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

const embeddedOk = runTests('embedded mode', ['test/unit/*.test.ts', 'test/api/*.test.ts', 'test/media/*.test.ts'], {});

const missing: string[] = [];
for (const [name, url] of Object.entries(adapterEnv)) if (!(await reachable(url))) missing.push(`${name}=${url}`);
let clusterOk = true;
if (missing.length === 0) {
  clusterOk = runTests('cluster mode (engine adapters, then the API suite against multi-process clusters)',
    ['test/storage/*.test.ts', 'test/api/*.test.ts'], { ...adapterEnv, SQUARED_TEST_MODE: 'cluster' });
} else if (process.env.CI) {
  process.stdout.write(`\ncluster mode FAILED: engines not reachable in CI: ${missing.join(', ')}\n`);
  clusterOk = false;
} else {
  process.stdout.write(`\ncluster mode not run: engines not reachable (${missing.join(', ')}); start them with \`npm run engines:up\`\n`);
}
process.exit(embeddedOk && clusterOk ? 0 : 1);
