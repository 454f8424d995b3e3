// RoomStore on Cassandra: the readers (room-reads.ts) and the fenced write path
// (room-write-path.ts, whose opening comment and README.md next to this file describe the
// design: fencing by lightweight transaction, state application, repair).
import type { RoomStore, RoomWrite } from '../interfaces.ts';
import type { Db } from './db.ts';
import { CassandraRoomReads, type RoomReadOptions } from './room-reads.ts';
import { FencedRoomWriter, type FencedWriteOptions } from './room-write-path.ts';

export { TS_BASE } from './room-write-path.ts';

export type RoomStoreOptions = RoomReadOptions & FencedWriteOptions;

export class CassandraRoomStore extends CassandraRoomReads implements RoomStore {
  private readonly writer: FencedRoomWriter;

  constructor(db: Db, options: RoomStoreOptions = {}) {
    super(db, options);
    this.writer = new FencedRoomWriter(db, options);
  }

  commit(write: RoomWrite): Promise<void> {
    return this.writer.commit(write);
  }

  /** The room's head, its last write applied first if its writer did not finish it. */
  head(roomId: string): Promise<number> {
    return this.writer.head(roomId);
  }

  heads(roomIds: string[]): Promise<Map<string, number>> {
    return this.writer.heads(roomIds);
  }

  claimDirectRoom(directKey: string, roomId: string, replacing?: string): Promise<string> {
    return this.writer.claimDirectRoom(directKey, roomId, replacing);
  }
}
