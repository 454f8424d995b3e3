// A people.db made before token families (no family_id, used_at columns) opens, gains the
// columns, keeps its tokens, and then rotates and revokes like a new one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { SqlitePeopleStore, peopleSchema } from '../../storage/embedded/people-store.ts';
import { openDatabase } from '../../storage/embedded/sqlite.ts';

const BEFORE_FAMILIES = `
CREATE TABLE people (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, display_name TEXT NOT NULL COLLATE NOCASE, doc TEXT NOT NULL);
CREATE TABLE person_emails (email TEXT PRIMARY KEY, person_id TEXT NOT NULL);
CREATE TABLE passwords (person_id TEXT PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE tokens (hash TEXT PRIMARY KEY, person_id TEXT NOT NULL, kind TEXT NOT NULL, expires_at TEXT, created TEXT NOT NULL);
CREATE INDEX tokens_by_person ON tokens (person_id);
INSERT INTO tokens VALUES ('old-refresh', 'p1', 'refresh', '2999-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
`;

test('an older people.db gains the token family columns and keeps its tokens', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'people-upgrade-')), 'people.db');
  const old = new DatabaseSync(file);
  old.exec(BEFORE_FAMILIES);
  old.close();
  const db = openDatabase({ file, durableSync: false, schema: peopleSchema });
  try {
    const store = new SqlitePeopleStore(db);
    assert.deepEqual(await store.getToken('old-refresh'),
      { hash: 'old-refresh', personId: 'p1', kind: 'refresh', expiresAt: '2999-01-01T00:00:00.000Z', created: '2026-01-01T00:00:00.000Z' });
    assert.equal(await store.useRefreshToken('old-refresh', '2026-06-01T00:00:00.000Z'), true);
    assert.equal((await store.getToken('old-refresh'))?.usedAt, '2026-06-01T00:00:00.000Z');
    await store.saveToken({ hash: 'new', personId: 'p1', kind: 'access', expiresAt: null, created: '2026-06-01T00:00:00.000Z', familyId: 'f' });
    await store.deleteTokenFamily('f');
    assert.equal(await store.getToken('new'), undefined);
    new SqlitePeopleStore(db); // a second open finds the columns there
  } finally {
    db.close();
  }
});
