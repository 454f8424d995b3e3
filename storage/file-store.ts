// The file records of the `files` actor (a file on a message: its name, size, sniffed type and
// the blob that holds its bytes) and the store that keeps them.

export interface FileRecord {
  /** The content id of `/v1/contents/{id}`. */
  id: string;
  /** The name the client gave, as given (served in Content-Disposition). */
  name: string;
  size: number;
  /** Sniffed from the bytes, never the client's claim. */
  type: string;
  /** The BlobStore key of the bytes; the record is one of the blob's owners (its id). */
  blobKey: string;
  uploaderId: string;
  created: string;
  /** `attachment` for what a browser could run or render as a page (HTML, SVG, scripts, XML) and every type not known to be safe inline. */
  disposition: 'inline' | 'attachment';
  /**
   * `uploading` from the start of an upload (the record names it before a byte is stored, so
   * that a sweep finds what a process that died left), `stored` once its bytes are, `attached`
   * once on its message. Records older than the field read as `attached` or `stored`.
   */
  state?: 'uploading' | 'stored' | 'attached';
  /** Set once the message carrying the file is committed; until then nobody may read it. */
  roomId?: string;
  messageId?: string;
}

/** File records by id and by message. `put` creates or replaces; `remove` is idempotent. */
export interface FileStore {
  put(file: FileRecord): Promise<void>;
  get(id: string): Promise<FileRecord | undefined>;
  /** The files of a message, in id order. */
  listByMessage(messageId: string): Promise<FileRecord[]>;
  /** The files on the room's messages, in id order, `max` at a time after the id `after`. */
  listByRoom(roomId: string, page: { max: number; after?: string }): Promise<FileRecord[]>;
  /**
   * Up to `max` records on no message that were created before `createdBefore` (ISO time):
   * uploads whose message never came. Oldest first where the adapter can say (embedded).
   */
  listUnattached(createdBefore: string, max: number): Promise<FileRecord[]>;
  remove(id: string): Promise<void>;
  close(): Promise<void>;
}
