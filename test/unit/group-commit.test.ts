// Group commit (storage/embedded/group-commit.ts): writes queued in one turn share one
// transaction; a write that throws is undone and rejected alone; every promise settles
// after the COMMIT; a failed COMMIT rejects the whole batch and leaves nothing behind.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { GroupCommit } from '../../storage/embedded/group-commit.ts';

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
