// FileStore on Cassandra (migrations 15, 19): `files` (id → JSON), and the files of each message
// and of each room (keys only, checked against `files` on read, as the webhook listings are).
// Uploads not on a message yet are hinted in `files_unattached` by the hour they began: the
// sweep reads the hours past its grace period, and drops the hints of files that were attached
// or removed meanwhile as it meets them (their rows TTL out anyway, UNATTACHED_TTL_SECONDS).
//
// The preview (migration 20) has columns of its own, `preview` and `preview_blob`. The preview
// job and the deletion of the file may run at once on two nodes: both touch those columns only
// through Paxos (the record's own `doc` keeps its plain writes, which no preview write races),
// so one of them comes second and sees the other — the job's `UPDATE … IF EXISTS` fails on a
// deleted record, and the deletion's `DELETE … IF preview_blob = ?` fails when a preview blob
// it has not released was recorded.
import { previewBlobOf, type FilePreview, type FileRecord, type FileStore } from '../file-store.ts';
import { type Db, parseDoc } from './db.ts';
import { UNATTACHED_TTL_SECONDS } from './schema.ts';

const HOUR_MS = 3600_000;
const hourOf = (iso: string) => Math.floor(Date.parse(iso) / HOUR_MS);

export class CassandraFileStore implements FileStore {
  private readonly db: Db;
  private readonly ks: string;
  /** Hours before this one held no hint when last read (new hints only go to the current hour). */
  private emptyBefore = 0;

  constructor(db: Db) {
    this.db = db;
    this.ks = db.ks;
  }

  async put(file: FileRecord): Promise<void> {
    // The hint first: a hint without its row is skipped on read; a row without its hint would outlive its message.
    if (file.messageId) await this.db.run(`INSERT INTO ${this.ks}.files_by_message (message_id, id) VALUES (?, ?)`, [file.messageId, file.id]);
    if (file.roomId) await this.db.run(`INSERT INTO ${this.ks}.files_by_room (room_id, id) VALUES (?, ?)`, [file.roomId, file.id]);
    else await this.db.run(`INSERT INTO ${this.ks}.files_unattached (hour, id) VALUES (?, ?)`, [hourOf(file.created), file.id]);
    const { preview: _recordedApart, ...doc } = file;
    await this.db.run(`INSERT INTO ${this.ks}.files (id, doc) VALUES (?, ?)`, [file.id, JSON.stringify(doc)]);
  }

  async setPreview(id: string, preview: FilePreview): Promise<boolean> {
    const { applied } = await this.db.lwt(`UPDATE ${this.ks}.files SET preview = ?, preview_blob = ? WHERE id = ? IF EXISTS`, [JSON.stringify(preview), previewBlobOf(preview) ?? null, id]);
    return applied;
  }

  async removeReleased(id: string, releasedPreviewBlob: string | undefined): Promise<boolean> {
    const file = await this.get(id);
    const { applied } = await this.db.lwt(`DELETE FROM ${this.ks}.files WHERE id = ? IF preview_blob = ?`, [id, releasedPreviewBlob ?? null]);
    // Not applied: another preview blob is recorded, or the row is gone (a serial read tells which).
    if (!applied && (await this.db.serialRead(`SELECT id FROM ${this.ks}.files WHERE id = ?`, [id]))) return false;
    if (file) await this.removeHints(file);
    return true;
  }

  async get(id: string): Promise<FileRecord | undefined> {
    const row = await this.db.first(`SELECT doc, preview FROM ${this.ks}.files WHERE id = ?`, [id]);
    const file = parseDoc<FileRecord>(row);
    if (file && row?.preview) file.preview = JSON.parse(String(row.preview)) as FilePreview;
    return file;
  }

  async listByMessage(messageId: string): Promise<FileRecord[]> {
    const ids = (await this.db.rows(`SELECT id FROM ${this.ks}.files_by_message WHERE message_id = ?`, [messageId])).map((row) => String(row.id));
    const files = await Promise.all(ids.map((id) => this.get(id)));
    return files.filter((file): file is FileRecord => file?.messageId === messageId);
  }

  async listByRoom(roomId: string, page: { max: number; after?: string }): Promise<FileRecord[]> {
    const ids = (await this.db.rows(`SELECT id FROM ${this.ks}.files_by_room WHERE room_id = ? AND id > ? LIMIT ?`, [roomId, page.after ?? '', page.max])).map((row) => String(row.id));
    const files = await Promise.all(ids.map((id) => this.get(id)));
    return files.filter((file): file is FileRecord => file?.roomId === roomId && file.messageId !== undefined);
  }

  async listUnattached(createdBefore: string, max: number): Promise<FileRecord[]> {
    const found: FileRecord[] = [];
    const last = hourOf(createdBefore);
    const first = Math.max(this.emptyBefore, last - Math.ceil((UNATTACHED_TTL_SECONDS * 1000) / HOUR_MS));
    let allEmpty = true;
    for (let hour = first; hour <= last && found.length < max; hour++) {
      const ids = (await this.db.rows(`SELECT id FROM ${this.ks}.files_unattached WHERE hour = ? LIMIT ?`, [hour, max * 4])).map((row) => String(row.id));
      for (const id of ids) {
        const file = await this.get(id);
        if (!file || file.messageId) {
          // Attached or removed since: the hint has done its work.
          await this.db.run(`DELETE FROM ${this.ks}.files_unattached WHERE hour = ? AND id = ?`, [hour, id]);
        } else if (file.created < createdBefore && found.length < max) {
          found.push(file);
        }
      }
      if (ids.length > 0) allEmpty = false;
      // The hours before the current one get no new hints: once read empty, they are skipped.
      if (allEmpty && hour < last - 1) this.emptyBefore = hour + 1;
    }
    return found;
  }

  async remove(id: string): Promise<void> {
    const file = await this.get(id);
    await this.db.run(`DELETE FROM ${this.ks}.files WHERE id = ?`, [id]);
    if (file) await this.removeHints(file);
  }

  /** The listings' keys of a removed record. */
  private async removeHints(file: FileRecord): Promise<void> {
    if (file.messageId) await this.db.run(`DELETE FROM ${this.ks}.files_by_message WHERE message_id = ? AND id = ?`, [file.messageId, file.id]);
    if (file.roomId) await this.db.run(`DELETE FROM ${this.ks}.files_by_room WHERE room_id = ? AND id = ?`, [file.roomId, file.id]);
    else await this.db.run(`DELETE FROM ${this.ks}.files_unattached WHERE hour = ? AND id = ?`, [hourOf(file.created), file.id]);
  }

  async close(): Promise<void> {
    // The client belongs to the Cassandra storage that made this store.
  }
}
