// Online backup of an embedded installation's data directory, taken by another process
// while Squared serves. Every database (`*.db`) is copied with SQLite's online backup API
// (node:sqlite `backup`), all of them from read transactions opened together: connections
// attach every database (ten to a connection) and open each one's snapshot, one right after the other, before
// any copy starts, so the copies are the state of all the files within microseconds of one
// moment, however long the copying takes (WAL lets the server go on writing meanwhile; its
// writes after that moment are simply not in the backup). Squared never commits to two
// files at once, so there is no cross-file transaction for this to cut. Every other file
// (the TLS material, the administrator's credentials, stored files) is copied as it is. The
// manifest, written last, records the room heads of that moment and the size and SHA-256
// of every file.
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync, backup } from 'node:sqlite';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, MANIFEST_FILE, describeFile, listFiles, roomHeadsIn, writeManifest, type BackupFile, type BackupManifest } from './backup-manifest.ts';

/** SQLite's side files and the console socket: state of the running process, never data. */
const NOT_DATA = /(-wal|-shm|-journal)$|(^|\/)repl\.sock$/;
/** The databases: every `*.db` at the top of the data directory (one per owning actor). */
const DATABASE = /^[^/]+\.db$/;

export interface BackupOptions {
  dataDir: string;
  /** Must not exist, or be empty. */
  outDir: string;
  squaredVersion: string;
}

export async function takeBackup({ dataDir, outDir, squaredVersion }: BackupOptions): Promise<BackupManifest> {
  if (!fs.existsSync(path.join(dataDir, 'rooms.db'))) throw new Error(`${dataDir} holds no Squared installation (no rooms.db).`);
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0) throw new Error(`${outDir} is not empty: a backup goes into a new or empty directory.`);
  fs.mkdirSync(outDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(outDir, 0o700);

  const present = listFiles(dataDir).filter((file) => !NOT_DATA.test(file));
  const databases = present.filter((file) => DATABASE.test(file));
  const { snapshotAt, roomHeads } = await snapshotDatabases(dataDir, databases, outDir);
  const files: BackupFile[] = [];
  for (const database of databases) files.push(await describeFile(outDir, database, 'sqlite'));
  for (const other of present.filter((file) => !databases.includes(file))) {
    const target = path.join(outDir, other);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    fs.copyFileSync(path.join(dataDir, other), target);
    fs.chmodSync(target, 0o600);
    files.push(await describeFile(outDir, other, 'file'));
  }
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    squaredVersion,
    nodeVersion: process.version,
    snapshotAt,
    finishedAt: new Date().toISOString(),
    sourceDataDir: path.resolve(dataDir),
    roomHeads,
    files,
  };
  if (files.some((file) => file.path === MANIFEST_FILE)) throw new Error(`${dataDir} holds a ${MANIFEST_FILE}: is it a backup rather than a data directory?`);
  writeManifest(outDir, manifest);
  return manifest;
}

/** SQLite attaches at most this many databases to one connection (SQLITE_MAX_ATTACHED's default). */
const ATTACH_LIMIT = 10;

/**
 * Copies every database from read transactions opened together; see the file comment. The
 * databases are attached to as few connections as SQLite allows (ten each); every connection's
 * transaction begins and reads its snapshots, one right after the other, before any copy.
 */
async function snapshotDatabases(dataDir: string, databases: string[], outDir: string): Promise<{ snapshotAt: string; roomHeads: Record<string, number> }> {
  // Attached under names of their own (any file name will do), rooms.db as `rooms` for its heads.
  const schemaOf = (database: string) => (database === 'rooms.db' ? 'rooms' : `db${databases.indexOf(database)}`);
  const groups: { reader: DatabaseSync; databases: string[] }[] = [];
  for (let start = 0; start < databases.length; start += ATTACH_LIMIT) groups.push({ reader: new DatabaseSync(':memory:'), databases: databases.slice(start, start + ATTACH_LIMIT) });
  try {
    for (const { reader, databases: attached } of groups) {
      reader.exec('PRAGMA busy_timeout = 5000');
      for (const database of attached) reader.prepare(`ATTACH DATABASE ? AS "${schemaOf(database)}"`).run(path.join(dataDir, database));
    }
    // A deferred transaction reads a database's snapshot when it first reads from it:
    // touch them all now, one right after the other, before the (slower) copies.
    for (const { reader, databases: attached } of groups) {
      reader.exec('BEGIN');
      for (const database of attached) reader.prepare(`SELECT count(*) FROM "${schemaOf(database)}".sqlite_schema`).get();
    }
    const snapshotAt = new Date().toISOString();
    const withRooms = groups.find((group) => group.databases.includes('rooms.db'));
    const roomHeads = withRooms ? roomHeadsIn(withRooms.reader, 'rooms') : {};
    for (const { reader, databases: attached } of groups) {
      for (const database of attached) {
        const target = path.join(outDir, database);
        // Inside the open read transaction, SQLite's backup copies that same snapshot.
        await backup(reader, target, { source: schemaOf(database), rate: -1 });
        asStandaloneFile(target);
      }
      reader.exec('COMMIT');
    }
    return { snapshotAt, roomHeads };
  } finally {
    for (const { reader } of groups) reader.close();
  }
}

/**
 * A copy keeps the source's WAL mode, and would grow -wal and -shm files beside it (files
 * the manifest cannot vouch for) whenever it is opened: make it a single self-contained file.
 */
function asStandaloneFile(file: string): void {
  const copy = new DatabaseSync(file);
  try {
    copy.exec('PRAGMA journal_mode = DELETE');
  } finally {
    copy.close();
  }
  fs.chmodSync(file, 0o600);
}
