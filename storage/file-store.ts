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
  /**
   * The outcome of the file's preview job (docs/previews.md), once it ran: written only by
   * `setPreview`, never by `put`. Absent while the job is pending.
   */
  preview?: FilePreview;
}

/** A preview: an image (of an image, or of a PDF's first page) stored as a blob, a text snippet, or none and why. */
export type FilePreview =
  | { state: 'ready'; kind: 'image' | 'pdf'; sourceType: string; blobKey: string; mime: string; width: number; height: number; pages?: number }
  | { state: 'ready'; kind: 'text'; sourceType: string; snippet: string; truncated: boolean }
  | { state: 'none'; reason: string };

/** The blob a preview holds, if any (its owner is `preview:<fileId>`). */
export function previewBlobOf(preview: FilePreview | undefined): string | undefined {
  return preview?.state === 'ready' && preview.kind !== 'text' ? preview.blobKey : undefined;
}

/**
 * File records by id and by message. `put` creates or replaces (keeping a recorded preview);
 * `remove` is idempotent.
 *
 * A preview job and the deletion of the file's message may run at once, on two nodes: the
 * preview is recorded only on a record that still exists (`setPreview`), and a record is
 * removed only if the preview blob its remover released is still the one recorded
 * (`removeReleased`), so that whichever comes second releases the preview's blob.
 */
export interface FileStore {
  put(file: FileRecord): Promise<void>;
  /** Records the preview on the file; false if the record is gone (the caller then releases what it stored). */
  setPreview(id: string, preview: FilePreview): Promise<boolean>;
  /**
   * Removes the record if the blob of its recorded preview is `releasedPreviewBlob` (undefined:
   * none); true once the record is gone (or was). False, leaving the record, when another
   * preview blob was recorded meanwhile: the caller releases that one too and tries again.
   */
  removeReleased(id: string, releasedPreviewBlob: string | undefined): Promise<boolean>;
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
