// The bench driver: `npm run bench [-- <scenario>] [flags]` (default scenario: fanout).
// Servers under test run as child processes of this driver; the load generator runs here.
// Every child is stopped on exit, on an error and on Ctrl-C; a failure exits non-zero.
import path from 'node:path';
import { installCleanup, stopAll } from './lib/children.ts';
import { UsageError } from './lib/cli.ts';

interface Scenario {
  description: string;
  usage(): string;
  run(argv: string[]): Promise<number>;
}

const scenarios: Record<string, { description: string; load?: () => Promise<Scenario> }> = {
  fanout: { description: 'live fan-out: Squared vs raw uWebSockets.js pub/sub', load: () => import('./fanout/fanout.ts') },
  media: { description: 'meetings of synthetic participants: mediasoup worker vs a plain C forwarder', load: () => import('./media/media.ts') },
  rest: { description: 'REST endpoints under autocannon: Squared embedded vs a raw uWS SSLApp answering the same bytes', load: () => import('./rest/rest.ts') },
  webhooks: { description: 'webhook deliveries/s to a local HTTPS receiver, and posting p99 with and without 10 webhooks', load: () => import('./webhooks/webhooks.ts') },
  notifications: { description: 'mentions: post → notification frame vs the event frame, pushes/s, posting p99 with and without @all', load: () => import('./notifications/notifications.ts') },
  previews: { description: 'preview latency of a 10 MB image: the sandboxed renderer vs sharp alone in-process', load: () => import('./previews/previews.ts') },
  presence: { description: 'N sockets heartbeating and changing status, W watchers each: Squared vs raw uWS pub/sub', load: () => import('./presence/presence.ts') },
  files: { description: 'upload MB/s of one file (multipart POST /v1/messages) vs cp + sync of the same file', load: () => import('./files/files.ts') },
  search: { description: 'search p50/p99 on 1M messages: Squared\'s SearchIndex vs a bare FTS5 / Elasticsearch query of the same terms', load: () => import('./search/search.ts') },
  roster: { description: 'one meeting of N live sockets: bytes and time per roster change vs the full state', load: () => import('./roster/roster.ts') },
};

function help(): string {
  return [
    'usage: npm run bench -- [scenario] [--flag value …]',
    '       npx node bench/run.ts [scenario] [--flag value …]',
    '',
    'scenarios:',
    ...Object.entries(scenarios).map(([name, s]) => `  ${name.padEnd(8)} ${s.description}`),
    '',
    'npm run bench -- fanout --help   lists the flags of a scenario',
    'npm run bench -- <scenario> --profile [dir]   also writes each server\'s V8 CPU profile (default bench/results/profiles-…)',
  ].join('\n');
}

async function main(): Promise<number> {
  installCleanup();
  const args = process.argv.slice(2);
  const name = args[0] && !args[0].startsWith('--') ? args.shift()! : 'fanout';
  // `--profile [dir]`, for every scenario: each server under test writes a V8 CPU profile
  // there when it exits (Node refuses --cpu-prof in NODE_OPTIONS; lib/server-process.ts adds it).
  const at = args.indexOf('--profile');
  if (at !== -1) {
    const given = args[at + 1] && !args[at + 1].startsWith('--') ? args[at + 1] : undefined;
    args.splice(at, given ? 2 : 1);
    process.env.BENCH_PROFILE_DIR = path.resolve(given ?? path.join(import.meta.dirname, 'results', `profiles-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
    process.stderr.write(`bench: CPU profiles of the servers under test go to ${process.env.BENCH_PROFILE_DIR}\n`);
  }
  if (name === 'help') {
    process.stdout.write(`${help()}\n`);
    return 0;
  }
  const entry = scenarios[name];
  if (!entry) throw new UsageError(`unknown scenario "${name}"\n\n${help()}`);
  if (!entry.load) throw new UsageError(`scenario "${name}" is not implemented yet`);
  const scenario = await entry.load();
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${name}: ${scenario.description}\n\n${scenario.usage()}\n`);
    return 0;
  }
  return scenario.run(args);
}

const fatal = async (err: unknown) => {
  const usage = err instanceof UsageError;
  process.stderr.write(`\nbench: ${usage ? 'usage error' : 'FAILED'}: ${err instanceof Error ? err.message : String(err)}\n`);
  if (!usage && err instanceof Error && process.env.BENCH_DEBUG) process.stderr.write(`${err.stack}\n`);
  await stopAll(3_000);
  process.exit(usage ? 2 : 1);
};
process.on('unhandledRejection', (err) => void fatal(err));
process.on('uncaughtException', (err) => void fatal(err));

try {
  const code = await main();
  await stopAll();
  process.exit(code);
} catch (err) {
  await fatal(err);
}
