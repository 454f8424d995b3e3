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
  remove(id: string): Promise<void>;
  close(): Promise<void>;
}
