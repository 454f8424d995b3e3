// Opening an embedded database: one file per owning actor, WAL so readers never wait on
// the writer, and fsync on commit when the configuration asks for power-loss durability
// (rooms.db has its fsync after the COMMIT instead, off the event loop: wal-sync.ts).
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import fs from 'node:fs';
import path from 'node:path';

export interface SqliteOptions {
  file: string;
  durableSync: boolean;
  schema: string;
}

export function openDatabase({ file, durableSync, schema }: SqliteOptions): DatabaseSync {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${durableSync ? 'FULL' : 'NORMAL'}`);
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec(schema);
  return db;
}

/** Runs `work` in one IMMEDIATE transaction: all of it is committed, or none of it. */
export function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

/**
 * Prepares each statement once, on first use. Queries built from optional filters are
 * cached too: their text comes from a fixed set of fragments, so the cache stays small,
 * and preparing on every call was most of what listing rooms cost (issue 16's profile).
 */
export function statementCache(db: DatabaseSync): (sql: string) => StatementSync {
  const cache = new Map<string, StatementSync>();
  return (sql) => {
    let statement = cache.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
}

export function parseDoc<T>(row: unknown): T {
  return JSON.parse((row as { doc: string }).doc) as T;
}
