// Restoring an embedded backup into an empty data directory. Nothing is written until the
// whole backup has been verified against its manifest; the files are then copied into a
// staging directory beside the target, checked once more, and the staging directory is
// renamed onto the target in one step, so a restore that fails half-way leaves the target
// as it was (missing or empty), never half-restored.
import fs from 'node:fs';
import path from 'node:path';
import { BackupRefusedError, sha256Of, verifyBackup, type BackupManifest } from './backup-manifest.ts';

export interface RestoreOptions {
  backupDir: string;
  /** Must not exist, or be an empty directory. */
  dataDir: string;
}

export async function restoreBackup({ backupDir, dataDir }: RestoreOptions): Promise<BackupManifest> {
  const target = path.resolve(dataDir);
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory()) throw new BackupRefusedError(`${target} exists and is not a directory.`);
    const entries = fs.readdirSync(target);
    if (entries.length > 0) {
      throw new BackupRefusedError(`${target} is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}): a restore goes into an empty data directory, never over an installation.`);
    }
  }
  const manifest = await verifyBackup(backupDir);

  const staging = `${target}.restoring-${process.pid}`;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.mkdirSync(staging, { mode: 0o700 });
  try {
    for (const file of manifest.files) {
      const copy = path.join(staging, file.path);
      fs.mkdirSync(path.dirname(copy), { recursive: true, mode: 0o700 });
      fs.copyFileSync(path.join(backupDir, file.path), copy);
      fs.chmodSync(copy, 0o600);
      if ((await sha256Of(copy)) !== file.sha256) throw new BackupRefusedError(`${file.path} changed while it was being restored; nothing was restored.`);
    }
    // rename(2) replaces an empty directory; anything put there meanwhile makes it fail.
    fs.renameSync(staging, target);
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  return manifest;
}
