// The embedded backup's snapshot (storage/embedded/backup.ts): while another process writes
// the same row into two databases, one after the other, without pause, the backup's copies
// of the two hold the same rows, give or take the few written in the microseconds between
// opening the two snapshots — however long the copying takes. Copying the files one after
// the other instead would leave the second thousands of rows ahead of the first.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { takeBackup } from '../../storage/embedded/backup.ts';
import { verifyBackup } from '../../storage/embedded/backup-manifest.ts';
import { roomsSchema } from '../../storage/embedded/room-store.ts';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-backup-unit-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Inserts 0, 1, 2, … into rooms.db then search.db, each in its own commit, until killed. */
const WRITER = `
const { DatabaseSync } = require('node:sqlite');
const open = (file) => { const db = new DatabaseSync(file); db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA busy_timeout = 5000'); return db; };
const [rooms, search] = [open(process.argv[1]), open(process.argv[2])];
const [a, b] = [rooms.prepare('INSERT INTO counter (n) VALUES (?)'), search.prepare('INSERT INTO counter (n) VALUES (?)')];
process.stdout.write('writing\\n');
for (let n = 0; ; n++) { a.run(n); b.run(n); }
`;

test('the databases of a backup are snapshots of one moment, however long the copy takes', async () => {
  const dataDir = path.join(scratch, 'data');
  fs.mkdirSync(dataDir);
  for (const name of ['rooms', 'search']) {
    const db = new DatabaseSync(path.join(dataDir, `${name}.db`));
    db.exec('PRAGMA journal_mode = WAL');
    if (name === 'rooms') db.exec(roomsSchema);
    // Some 24 MiB in each, so that copying one takes long enough for thousands of writes.
    db.exec('CREATE TABLE counter (n INTEGER NOT NULL); CREATE TABLE ballast (b BLOB)');
    const ballast = db.prepare('INSERT INTO ballast (b) VALUES (randomblob(65536))');
    for (let i = 0; i < 384; i++) ballast.run();
    db.close();
  }
  const writer = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '-e', WRITER, path.join(dataDir, 'rooms.db'), path.join(dataDir, 'search.db')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((resolve) => writer.stdout!.once('data', resolve));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const outDir = path.join(scratch, 'backup');
    await takeBackup({ dataDir, outDir, squaredVersion: 'test' });

    const count = (name: string) => {
      const db = new DatabaseSync(path.join(outDir, `${name}.db`), { readOnly: true });
      const { n } = db.prepare('SELECT count(*) AS n FROM counter').get() as { n: number };
      db.close();
      return Number(n);
    };
    const [inRooms, inSearch] = [count('rooms'), count('search')];
    assert.ok(inRooms > 1000, `the writer was writing (${inRooms} rows)`);
    assert.ok(Math.abs(inSearch - inRooms) <= 50, `rooms.db has ${inRooms} rows, search.db ${inSearch}: taken at one moment`);
    await verifyBackup(outDir);
  } finally {
    writer.kill('SIGKILL');
  }
});
