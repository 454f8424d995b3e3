// `npm run cluster -- --gateways 2 --actors 2 --media 1`: a local multi-process cluster on
// the engines of `npm run engines:up`. Ctrl-C drains it: gateways first, then actors, then media.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalCluster } from './local-cluster.ts';

const { values } = parseArgs({
  options: {
    gateways: { type: 'string', default: '2' },
    actors: { type: 'string', default: '2' },
    media: { type: 'string', default: '1' },
    'base-port': { type: 'string', default: '8443' },
    'data-dir': { type: 'string', default: 'data/cluster' },
    quiet: { type: 'boolean', default: false },
  },
});
const count = (name: string, value: string | undefined) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
};

const cluster = await startLocalCluster({
  gateways: count('gateways', values.gateways),
  actors: count('actors', values.actors),
  media: count('media', values.media),
  basePort: Number(values['base-port']),
  dataDir: path.resolve(values['data-dir']!),
  log: values.quiet ? undefined : (line) => process.stdout.write(`${line}\n`),
});
process.stdout.write(`\nSquared cluster ready: ${cluster.gateways().map((g) => g.url).join(' ')}\n`);
// Only what happened: credentials are written when this start created the first administrator.
const credentials = cluster.actors().map((node) => node.adminCredentials).find(Boolean);
process.stdout.write(credentials
  ? `Admin credentials (the token expires after 24 h): ${credentials}\n`
  : 'The cluster\'s store has people already: no administrator was created and no admin.json written. '
    + 'For a way in: npm run admin -- reset-password --cluster --email <an administrator\'s email> (or create --cluster --email …).\n');

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await cluster.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
for (const node of cluster.nodes) {
  node.child.once('exit', (code, signal) => {
    if (!stopping) process.stdout.write(`${node.name} exited (${code ?? signal})\n`);
  });
}
