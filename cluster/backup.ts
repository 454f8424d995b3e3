// `npm run backup -- --out <dir> [--data-dir <dir>]`: a consistent backup of an embedded
// installation, online (Squared may be serving), into a new or empty directory. How it is
// made and what it holds: storage/embedded/backup.ts.
// With SQUARED_CASSANDRA set, `npm run backup -- --out <dir> --cassandra-data [<host>=]<dir>…`
// backs up that cluster with its engines' own tools: cluster/cluster-backup/take.ts.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readConfig } from '../contracts/config.ts';
import { takeBackup } from '../storage/embedded/backup.ts';
import { engineToolsFrom } from './cluster-backup/engine-tools.ts';
import { takeClusterBackup } from './cluster-backup/take.ts';

const USAGE = 'usage: npm run backup -- --out <dir> [--data-dir <dir>] (default data directory: SQUARED_DATA_DIR or ./data)\n'
  + '       with SQUARED_CASSANDRA (a cluster): npm run backup -- --out <dir> --cassandra-data [<host>=]<Cassandra data directory>… '
  + '(SQUARED_NODETOOL, SQUARED_RABBITMQCTL: how to run the engines\' tools; README, "Backup and restore (cluster)")';

function fail(message: string): never {
  process.stderr.write(`backup refused: ${message}\n`);
  process.exit(1);
}

let values: { out?: string; 'data-dir'?: string; 'cassandra-data'?: string[] };
try {
  ({ values } = parseArgs({ options: { out: { type: 'string' }, 'data-dir': { type: 'string' }, 'cassandra-data': { type: 'string', multiple: true } } }));
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`);
}
if (!values.out) fail(`--out is missing.\n${USAGE}`);
const config = readConfig();
const { version } = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };

if (config.engines.cassandra) {
  if (values['data-dir']) fail(`--data-dir is for an embedded installation; SQUARED_CASSANDRA is set.\n${USAGE}`);
  const dataDirs = new Map<string, string>();
  for (const given of values['cassandra-data'] ?? []) {
    const at = given.indexOf('=');
    dataDirs.set(at > 0 ? given.slice(0, at) : '*', path.resolve(at > 0 ? given.slice(at + 1) : given));
  }
  try {
    const started = Date.now();
    const manifest = await takeClusterBackup({
      cassandra: config.engines.cassandra, cassandraDataDirs: dataDirs, rabbitmq: Boolean(config.engines.rabbitmq),
      tools: engineToolsFrom(process.env), outDir: path.resolve(values.out), squaredVersion: version,
      log: (line) => process.stderr.write(`backup: ${line}\n`),
    });
    const bytes = manifest.files.reduce((sum, file) => sum + file.bytes, 0);
    process.stdout.write(`backup of keyspace ${manifest.keyspace} (${manifest.hosts.length} Cassandra node${manifest.hosts.length > 1 ? 's' : ''}, snapshot ${manifest.snapshotTag}`
      + `${manifest.rabbitmqDefinitions ? ', RabbitMQ definitions' : ''}) in ${path.resolve(values.out)}: ${manifest.files.length} files, ${bytes} bytes, `
      + `${Object.keys(manifest.roomHeads).length} rooms as of ${manifest.startedAt}, in ${Date.now() - started} ms\n`);
  } catch (err) {
    fail((err as Error).message);
  }
  process.exit(0);
}

const dataDir = path.resolve(values['data-dir'] ?? config.dataDir);
try {
  const started = Date.now();
  const manifest = await takeBackup({ dataDir, outDir: path.resolve(values.out), squaredVersion: version });
  const bytes = manifest.files.reduce((sum, file) => sum + file.bytes, 0);
  process.stdout.write(`backup of ${dataDir} in ${path.resolve(values.out)}: ${manifest.files.length} files, ${bytes} bytes, `
    + `${Object.keys(manifest.roomHeads).length} rooms as of ${manifest.snapshotAt}, in ${Date.now() - started} ms\n`);
} catch (err) {
  fail((err as Error).message);
}
