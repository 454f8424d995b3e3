// The manifest of an embedded backup (manifest.json, written last) and its verification.
// A backup directory is trusted only as far as its manifest vouches for it: every file it
// lists must be there with its size and SHA-256, no file may be there that it does not list,
// every database must pass SQLite's integrity check, and the rooms database must hold the
// room heads the manifest recorded. The manifest carries a checksum of itself, so an edited
// or cut manifest is refused too (a guard against damage, not against someone who rewrites
// both: keep backups where only operators can write).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export const MANIFEST_FILE = 'manifest.json';
export const BACKUP_FORMAT = 'squared-embedded-backup';
export const BACKUP_FORMAT_VERSION = 1;

export interface BackupFile {
  /** Relative to the data directory (and to the backup directory), `/`-separated. */
  path: string;
  /** `sqlite`: a database copied with SQLite's online backup; `file`: copied as it is. */
  kind: 'sqlite' | 'file';
  bytes: number;
  sha256: string;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  squaredVersion: string;
  nodeVersion: string;
  /** When the databases' snapshot was taken: every write acknowledged before it is in the backup. */
  snapshotAt: string;
  finishedAt: string;
  sourceDataDir: string;
  /** The head seq of every room at the snapshot, from the rooms database. */
  roomHeads: Record<string, number>;
  files: BackupFile[];
}

/** A backup that must not be restored, with the reason an operator can act on. */
export class BackupRefusedError extends Error {
  override name = 'BackupRefusedError';
}

export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function describeFile(root: string, relative: string, kind: BackupFile['kind']): Promise<BackupFile> {
  const file = path.join(root, relative);
  return { path: relative, kind, bytes: fs.statSync(file).size, sha256: await sha256Of(file) };
}

const checksumOf = (body: object) => createHash('sha256').update(JSON.stringify(body)).digest('hex');

/** Writes manifest.json (with its own checksum) through a rename: it is there whole or not at all. */
export function writeManifest(dir: string, manifest: object): void {
  const file = path.join(dir, MANIFEST_FILE);
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify({ ...manifest, manifestSha256: checksumOf(manifest) }, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

/** The room heads of a rooms database. */
export function roomHeadsIn(db: DatabaseSync, schema = 'main'): Record<string, number> {
  const heads: Record<string, number> = {};
  for (const row of db.prepare(`SELECT room_id, head FROM "${schema}".room_heads ORDER BY room_id`).all() as { room_id: string; head: number }[]) {
    heads[row.room_id] = Number(row.head);
  }
  return heads;
}

/** Every regular file under `dir`, relative, `/`-separated. */
export function listFiles(dir: string, under = ''): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, under), { withFileTypes: true })) {
    const relative = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...listFiles(dir, relative));
    else if (entry.isFile()) found.push(relative);
  }
  return found.sort();
}

/**
 * The manifest in `dir`, checked against its own checksum and its format (both backup kinds
 * use this: the embedded one here, the cluster one in cluster/cluster-backup/).
 */
export function readSignedManifest<T extends { format: string; formatVersion: number }>(dir: string, format: string, formatVersion: number, what: string): T {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(file)) throw new BackupRefusedError(`${dir} is not a complete backup: it has no ${MANIFEST_FILE} (a backup writes it last).`);
  let parsed: T & { manifestSha256?: unknown };
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new BackupRefusedError(`${file} is not valid JSON: the manifest is damaged or cut short.`);
  }
  const { manifestSha256, ...body } = parsed;
  if (body.format !== format) throw new BackupRefusedError(`${file} is not the manifest of ${what}.`);
  if (body.formatVersion !== formatVersion) throw new BackupRefusedError(`${file} has format version ${body.formatVersion}; this Squared restores version ${formatVersion}.`);
  if (manifestSha256 !== checksumOf(body)) throw new BackupRefusedError(`${file} was altered: its checksum does not match its content.`);
  return body as unknown as T;
}

/** Every file the manifest lists is in `dir` with its size and SHA-256, and no other file is. */
export async function verifyListedFiles(dir: string, files: { path: string; bytes: number; sha256: string }[]): Promise<void> {
  const listed = new Set(files.map((file) => file.path));
  for (const present of listFiles(dir)) {
    if (present !== MANIFEST_FILE && !listed.has(present)) throw new BackupRefusedError(`${present} is in the backup but not in its manifest: the backup was altered.`);
  }
  for (const expected of files) {
    if (expected.path.split('/').includes('..') || path.isAbsolute(expected.path)) throw new BackupRefusedError(`the manifest names ${expected.path}, outside the backup.`);
    const file = path.join(dir, expected.path);
    if (!fs.existsSync(file)) throw new BackupRefusedError(`${expected.path} is missing from the backup.`);
    const bytes = fs.statSync(file).size;
    if (bytes !== expected.bytes) {
      throw new BackupRefusedError(`${expected.path} is ${bytes} bytes, the manifest says ${expected.bytes}: the backup is ${bytes < expected.bytes ? 'truncated' : 'altered'}.`);
    }
    if ((await sha256Of(file)) !== expected.sha256) throw new BackupRefusedError(`${expected.path} was altered: its SHA-256 does not match the manifest.`);
  }
}

function integrityOf(file: string): string {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((row) => row.integrity_check).join('; ');
  } finally {
    db.close();
  }
}

/**
 * Checks the backup in `dir` against its manifest (see the file comment) and returns the
 * manifest; throws BackupRefusedError naming the first problem found.
 */
export async function verifyBackup(dir: string): Promise<BackupManifest> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new BackupRefusedError(`${dir} is not a directory.`);
  const manifest = readSignedManifest<BackupManifest>(dir, BACKUP_FORMAT, BACKUP_FORMAT_VERSION, 'a Squared embedded backup');
  await verifyListedFiles(dir, manifest.files);
  const listed = new Set(manifest.files.map((file) => file.path));
  for (const expected of manifest.files.filter((file) => file.kind === 'sqlite')) {
    const integrity = integrityOf(path.join(dir, expected.path));
    if (integrity !== 'ok') throw new BackupRefusedError(`${expected.path} fails SQLite's integrity check: ${integrity}`);
  }
  if (listed.has('rooms.db')) {
    const db = new DatabaseSync(path.join(dir, 'rooms.db'), { readOnly: true });
    try {
      if (JSON.stringify(roomHeadsIn(db)) !== JSON.stringify(manifest.roomHeads)) throw new BackupRefusedError('rooms.db does not hold the room heads the manifest recorded.');
    } finally {
      db.close();
    }
  }
  return manifest;
}
