// `npm run backup -- --out <dir> [--data-dir <dir>]`: a consistent backup of an embedded
// installation, online (Squared may be serving), into a new or empty directory. How it is
// made and what it holds: storage/embedded/backup.ts. A cluster is backed up with its
// engines' own tools (README, "Operating Squared").
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readConfig } from '../contracts/config.ts';
import { takeBackup } from '../storage/embedded/backup.ts';

const USAGE = 'usage: npm run backup -- --out <dir> [--data-dir <dir>] (default data directory: SQUARED_DATA_DIR or ./data)';

function fail(message: string): never {
  process.stderr.write(`backup refused: ${message}\n`);
  process.exit(1);
}

let values: { out?: string; 'data-dir'?: string };
try {
  ({ values } = parseArgs({ options: { out: { type: 'string' }, 'data-dir': { type: 'string' } } }));
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`);
}
if (!values.out) fail(`--out is missing.\n${USAGE}`);
const config = readConfig();
if (config.engines.cassandra) fail('SQUARED_CASSANDRA is set: a cluster keeps its data in its engines; back it up with their tools (README, "Operating Squared").');

const dataDir = path.resolve(values['data-dir'] ?? config.dataDir);
const { version } = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
try {
  const started = Date.now();
  const manifest = await takeBackup({ dataDir, outDir: path.resolve(values.out), squaredVersion: version });
  const bytes = manifest.files.reduce((sum, file) => sum + file.bytes, 0);
  process.stdout.write(`backup of ${dataDir} in ${path.resolve(values.out)}: ${manifest.files.length} files, ${bytes} bytes, `
    + `${Object.keys(manifest.roomHeads).length} rooms as of ${manifest.snapshotAt}, in ${Date.now() - started} ms\n`);
} catch (err) {
  fail((err as Error).message);
}
