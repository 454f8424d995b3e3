// `npm run restore -- <backup dir> [--data-dir <dir>]`: restores an embedded backup (made by
// `npm run backup`) into an empty data directory (default SQUARED_DATA_DIR or ./data). It
// refuses a non-empty data directory, and a backup that is incomplete, truncated or altered
// (storage/embedded/backup-manifest.ts says what is checked), without writing anything.
// With SQUARED_CASSANDRA set it restores a cluster backup into an empty keyspace
// (cluster/cluster-backup/restore.ts); the search index is then rebuilt with `npm run reindex`.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readConfig } from '../contracts/config.ts';
import { restoreBackup } from '../storage/embedded/restore.ts';
import { engineToolsFrom } from './cluster-backup/engine-tools.ts';
import { restoreClusterBackup } from './cluster-backup/restore.ts';

const USAGE = 'usage: npm run restore -- <backup dir> [--data-dir <empty dir>] (default data directory: SQUARED_DATA_DIR or ./data)\n'
  + '       with SQUARED_CASSANDRA (a cluster): npm run restore -- <backup dir>, into the empty keyspace SQUARED_CASSANDRA_KEYSPACE';

function fail(message: string): never {
  process.stderr.write(`restore refused: ${message}\n`);
  process.exit(1);
}

let parsed: { values: { 'data-dir'?: string }; positionals: string[] };
try {
  parsed = parseArgs({ options: { 'data-dir': { type: 'string' } }, allowPositionals: true });
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`);
}
if (parsed.positionals.length !== 1) fail(`name exactly one backup directory.\n${USAGE}`);
const backupDir = path.resolve(parsed.positionals[0]);
const config = readConfig();
if (config.engines.cassandra) {
  if (parsed.values['data-dir']) fail(`--data-dir is for an embedded installation; SQUARED_CASSANDRA is set.\n${USAGE}`);
  try {
    const manifest = await restoreClusterBackup({
      backupDir, cassandra: config.engines.cassandra, rabbitmq: Boolean(config.engines.rabbitmq), tools: engineToolsFrom(process.env),
      log: (line) => process.stderr.write(`restore: ${line}\n`),
    });
    process.stdout.write(`restored ${backupDir} (Squared ${manifest.squaredVersion}, keyspace ${manifest.keyspace} as of ${manifest.startedAt}, `
      + `${Object.keys(manifest.roomHeads).length} rooms) into keyspace ${config.engines.cassandra.keyspace}: start the cluster on it, then rebuild the search index with npm run reindex\n`);
  } catch (err) {
    fail((err as Error).message);
  }
  process.exit(0);
}
const dataDir = path.resolve(parsed.values['data-dir'] ?? config.dataDir);
try {
  const manifest = await restoreBackup({ backupDir, dataDir });
  process.stdout.write(`restored ${backupDir} (Squared ${manifest.squaredVersion}, snapshot of ${manifest.snapshotAt}, `
    + `${Object.keys(manifest.roomHeads).length} rooms) into ${dataDir}: start Squared on it with SQUARED_DATA_DIR=${dataDir} npm start\n`);
  const { version } = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
  // Squared creates what its databases lack as it opens them; an older one may not read a newer one's data.
  if (version !== manifest.squaredVersion) process.stdout.write(`note: the backup was made by Squared ${manifest.squaredVersion}, this is ${version}.\n`);
} catch (err) {
  fail((err as Error).message);
}
