// Group commit (storage/embedded/group-commit.ts): writes queued in one turn share one
// transaction; a write that throws is undone and rejected alone; every promise settles
// after the COMMIT (and after the sync that makes it durable, when the COMMIT does not);
// a failed COMMIT rejects the whole batch and leaves nothing behind. And the WAL's sync off
// the event loop (storage/embedded/wal-sync.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { DurabilityLostError, GroupCommit } from '../../storage/embedded/group-commit.ts';
import { WalSync } from '../../storage/embedded/wal-sync.ts';

function database(): DatabaseSync {
  const db = new DatabaseSync(':memory:');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  return db;
}

const rows = (db: DatabaseSync) => db.prepare('SELECT k, v FROM t ORDER BY k').all().map((row) => `${row.k}=${row.v}`);

test('writes queued together commit in one transaction, each with its own result', async () => {
  const db = database();
  const commits = new GroupCommit(db);
  const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
  const results = await Promise.all(['a', 'b', 'c'].map((k, i) => commits.run(() => {
    insert.run(k, i);
    return `${k} written`;
  })));
  assert.deepEqual(results, ['a written', 'b written', 'c written']);
  assert.deepEqual(rows(db), ['a=0', 'b=1', 'c=2']);
  assert.deepEqual(commits.stats, { batches: 1, writes: 3 });
  // A later turn is a new transaction.
  await commits.run(() => insert.run('d', 3));
  assert.deepEqual(commits.stats, { batches: 2, writes: 4 });
});

test('a write that throws is undone and rejected alone; the others commit', async () => {
  const db = database();
  const commits = new GroupCommit(db);
  const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
  const first = commits.run(() => insert.run('a', 1));
  const failing = commits.run(() => {
    insert.run('b', 2); // undone with the savepoint
    insert.run('a', 3); // a primary key conflict
  });
  const thrown = commits.run(() => {
    insert.run('c', 4);
    throw new Error('the caller\'s own check failed');
  });
  const last = commits.run(() => insert.run('d', 5));
  await first;
  await assert.rejects(failing, /UNIQUE constraint failed/);
  await assert.rejects(thrown, /the caller's own check failed/);
  await last;
  assert.deepEqual(rows(db), ['a=1', 'd=5']);
  assert.equal(db.isTransaction, false);
});

test('promises settle only after the COMMIT; a failed COMMIT rejects the batch and rolls it back', async () => {
  const db = database();
  db.exec('CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)');
  db.exec('PRAGMA foreign_keys = ON');
  const commits = new GroupCommit(db);
  let settledBeforeCommit = false;
  const ok = commits.run(() => db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('a', 1));
  ok.catch(() => (settledBeforeCommit = db.isTransaction));
  // A deferred foreign key fails at COMMIT time, not in the statement.
  const dangling = commits.run(() => db.prepare('INSERT INTO child (p) VALUES (42)').run());
  await assert.rejects(ok, /FOREIGN KEY constraint failed/);
  await assert.rejects(dangling, /FOREIGN KEY constraint failed/);
  assert.equal(settledBeforeCommit, false);
  assert.deepEqual(rows(db), []);
  assert.equal(db.isTransaction, false);
  // The committer goes on.
  await commits.run(() => db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('b', 2));
  assert.deepEqual(rows(db), ['b=2']);
});

test('flushNow commits what is queued, for a close', async () => {
  const db = database();
  const commits = new GroupCommit(db);
  const pending = commits.run(() => db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('a', 1));
  commits.flushNow();
  db.close();
  await pending;
});

test('with a sync after commit, writes are answered only once the sync that began after their COMMIT settles; derived ones at the COMMIT', async () => {
  const db = database();
  const commits = new GroupCommit(db);
  const syncs: { resolve: () => void; reject: (err: Error) => void }[] = [];
  commits.syncAfterCommit(() => new Promise<void>((resolve, reject) => syncs.push({ resolve, reject })));
  const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
  let answered = false;
  let derivedAnswered = false;
  const first = commits.run(() => insert.run('a', 1)).then(() => (answered = true));
  const derived = commits.run(() => insert.run('r', 0), { durable: false }).then(() => (derivedAnswered = true));
  await derived;
  assert.deepEqual(rows(db), ['a=1', 'r=0'], 'committed');
  assert.equal(syncs.length, 1, 'a sync asked after the COMMIT');
  assert.equal(derivedAnswered, true, 'derived data answered at its COMMIT');
  assert.equal(answered, false, 'not answered before the sync');
  syncs[0].resolve();
  await first;
  assert.equal(answered, true);
});

test('a failed sync fails its batch and every later write: the disk may have lost them', async () => {
  const db = database();
  const commits = new GroupCommit(db);
  const heard: Error[] = [];
  commits.syncAfterCommit(() => Promise.reject(new Error('EIO')), (err) => heard.push(err));
  const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
  await assert.rejects(commits.run(() => insert.run('a', 1)), (err: Error) => err instanceof DurabilityLostError && /EIO/.test(err.message));
  assert.equal(heard.length, 1, 'heard once');
  await assert.rejects(commits.run(() => insert.run('b', 2)), DurabilityLostError);
  assert.deepEqual(rows(db), ['a=1'], 'no write after it reaches the database');
});

test('WalSync: syncs the WAL SQLite opened (through a symlink too); syncs asked meanwhile share the next one', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-wal-sync-'));
  try {
    fs.mkdirSync(path.join(dir, 'real'));
    const file = path.join(dir, 'real', 'x.db');
    fs.writeFileSync(file, '');
    fs.symlinkSync(file, path.join(dir, 'x.db'));
    const db = new DatabaseSync(path.join(dir, 'x.db'));
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
    db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('a', 1);
    assert.ok(fs.existsSync(`${file}-wal`), 'the WAL is beside the real file');
    const wal = new WalSync(db);
    await wal.sync();
    assert.equal(wal.stats.syncs, 1);
    // Ten asked at once: the one that starts now, and one after it for all the others.
    await Promise.all(Array.from({ length: 10 }, () => wal.sync()));
    assert.equal(wal.stats.syncs, 3);
    db.close();
    // The descriptor outlives the WAL SQLite removed at its last close: a late sync still ends.
    await wal.sync();
    await wal.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
