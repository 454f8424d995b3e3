// Read positions and the counts of what is unread, on Cassandra. Positions live in their own
// table, written at the wall-clock time outside the fenced room writes (a read is no activity
// of the room; the owner's write queue orders them). The two indexes they are counted from,
// message_deletions and mentions, are written by the fenced room writes (room-mutations.ts).
import { ALL_MENTIONED, type ReadPosition } from '../records.ts';
import { type Db, mapLimit, num, parseDoc } from './db.ts';

export class CassandraReadPositions {
  private readonly db: Db;
  private readonly ks: string;

  constructor(db: Db) {
    this.db = db;
    this.ks = db.ks;
  }

  async getReadPosition(roomId: string, personId: string): Promise<ReadPosition | undefined> {
    return parseDoc<ReadPosition>(await this.db.first(`SELECT doc FROM ${this.ks}.read_positions WHERE room_id = ? AND person_id = ?`, [roomId, personId]));
  }

  async readPositionsOf(personId: string, roomIds: string[]): Promise<Map<string, ReadPosition>> {
    // One point read per room, a page of rooms at a time: O(1) per room listed.
    const found = await mapLimit(roomIds, 32, (roomId) => this.getReadPosition(roomId, personId));
    const positions = new Map<string, ReadPosition>();
    found.forEach((position, i) => {
      if (position) positions.set(roomIds[i], position);
    });
    return positions;
  }

  async roomReadPositions(roomId: string): Promise<ReadPosition[]> {
    const rows = await this.db.rows(`SELECT doc FROM ${this.ks}.read_positions WHERE room_id = ?`, [roomId], 1000);
    return rows.map((row) => parseDoc<ReadPosition>(row)!);
  }

  async putReadPositions(positions: ReadPosition[]): Promise<void> {
    await mapLimit(positions, 16, (p) =>
      this.db.run(`INSERT INTO ${this.ks}.read_positions (room_id, person_id, doc) VALUES (?, ?, ?)`, [p.roomId, p.personId, JSON.stringify(p)]));
  }

  async deleteReadPositions(roomId: string, personId?: string): Promise<void> {
    if (personId === undefined) await this.db.run(`DELETE FROM ${this.ks}.read_positions WHERE room_id = ?`, [roomId]);
    else await this.db.run(`DELETE FROM ${this.ks}.read_positions WHERE room_id = ? AND person_id = ?`, [roomId, personId]);
  }

  async countDeletedAfter(roomId: string, ord: number): Promise<number> {
    return num((await this.db.first(`SELECT COUNT(*) AS n FROM ${this.ks}.message_deletions WHERE room_id = ? AND ord > ?`, [roomId, ord]))?.n);
  }

  async countMentionsAfter(roomId: string, personId: string, seq: number): Promise<number> {
    // A message mentioning the person and everyone has a row in both partitions: counted once.
    const seqs = new Set<number>();
    await Promise.all([personId, ALL_MENTIONED].map(async (key) => {
      for (const row of await this.db.rows(`SELECT seq FROM ${this.ks}.mentions WHERE room_id = ? AND person_id = ? AND seq > ?`, [roomId, key, seq])) seqs.add(num(row.seq));
    }));
    return seqs.size;
  }
}
