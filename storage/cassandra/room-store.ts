// RoomStore on Cassandra: the readers (room-reads.ts) and the fenced write path
// (room-write-path.ts, whose opening comment and README.md next to this file describe the
// design: fencing by lightweight transaction, state application, repair).
import type { RoomStore, RoomWrite, UnappliedWrite } from '../interfaces.ts';
import type { ReadPosition } from '../records.ts';
import type { Db } from './db.ts';
import { CassandraRoomReads, type RoomReadOptions } from './room-reads.ts';
import { FencedRoomWriter, type FencedWriteOptions } from './room-write-path.ts';
import { CassandraReadPositions } from './read-positions.ts';

export { TS_BASE } from './room-write-path.ts';

export type RoomStoreOptions = RoomReadOptions & FencedWriteOptions;

export class CassandraRoomStore extends CassandraRoomReads implements RoomStore {
  private readonly writer: FencedRoomWriter;
  private readonly reads: CassandraReadPositions;

  constructor(db: Db, options: RoomStoreOptions = {}) {
    super(db, options);
    this.writer = new FencedRoomWriter(db, options);
    this.reads = new CassandraReadPositions(db);
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

  unappliedWrite(roomId: string): Promise<UnappliedWrite | undefined> {
    return this.writer.unappliedWrite(roomId);
  }

  claimDirectRoom(directKey: string, roomId: string, replacing?: string): Promise<string> {
    return this.writer.claimDirectRoom(directKey, roomId, replacing);
  }

  getReadPosition(roomId: string, personId: string): Promise<ReadPosition | undefined> {
    return this.reads.getReadPosition(roomId, personId);
  }

  readPositionsOf(personId: string, roomIds: string[]): Promise<Map<string, ReadPosition>> {
    return this.reads.readPositionsOf(personId, roomIds);
  }

  roomReadPositions(roomId: string): Promise<ReadPosition[]> {
    return this.reads.roomReadPositions(roomId);
  }

  putReadPositions(positions: ReadPosition[]): Promise<void> {
    return this.reads.putReadPositions(positions);
  }

  deleteReadPositions(roomId: string, personId?: string): Promise<void> {
    return this.reads.deleteReadPositions(roomId, personId);
  }

  countDeletedAfter(roomId: string, ord: number): Promise<number> {
    return this.reads.countDeletedAfter(roomId, ord);
  }

  countMentionsAfter(roomId: string, personId: string, seq: number): Promise<number> {
    return this.reads.countMentionsAfter(roomId, personId, seq);
  }
}
