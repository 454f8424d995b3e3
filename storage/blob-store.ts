// The bytes of files (uploads, previews, avatars): the BlobStore interface that every adapter
// (files on disk in embedded mode, chunks in Cassandra in cluster mode) implements, and its errors.
import type { Readable } from 'node:stream';

/** A stored blob: its content address and length in bytes. */
export interface BlobInfo {
  /** `sha256-<64 hex digits>` of the bytes: the same bytes always get the same key. */
  key: string;
  size: number;
}

/** An inclusive byte range, as HTTP's `Range: bytes=start-end` (0 ≤ start ≤ end < size). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Content-addressed blobs with references. Guarantees, on every adapter:
 * - `put` streams the body in (never holding it whole in memory) and resolves once the bytes are
 *   durable; before that no reader can see the blob, and a failed or refused `put` (body error,
 *   `maxBytes` passed) leaves nothing behind: no blob, no reference.
 * - A blob is kept while it has at least one owner (e.g. the file record that points at it).
 *   `put` adds its `owner`; the same bytes put twice are stored once with two owners. `release`
 *   removes one owner (idempotent), and the last one's release deletes the bytes. A `put` racing
 *   the last `release` of the same bytes either keeps the blob alive or stores it afresh: it never
 *   resolves with a key whose bytes are gone.
 * - `read` streams the bytes (or an inclusive range of them) without holding them whole.
 */
export interface BlobStore {
  /** Rejects with BlobTooLargeError as soon as more than `maxBytes` arrive. */
  put(owner: string, body: AsyncIterable<Uint8Array>, options?: { maxBytes?: number }): Promise<BlobInfo>;
  stat(key: string): Promise<BlobInfo | undefined>;
  /** The blob's bytes, or those of `range`; undefined when there is no such blob. */
  read(key: string, range?: ByteRange): Promise<Readable | undefined>;
  /** Removes `owner`'s reference; the blob's bytes go with its last owner. */
  release(owner: string, key: string): Promise<void>;
  /** The blob's owners, in no particular order (an empty list for no blob). */
  owners(key: string): Promise<string[]>;
  /**
   * Removes every reference `owner` holds, whatever blobs it is (its key need not be known),
   * and whatever a put of `owner` left unfinished: for a sweep of uploads whose process died.
   * A put of `owner` still under way fails (BlobPutRevokedError) instead of committing after
   * it. Idempotent.
   */
  releaseAll(owner: string): Promise<void>;
  close(): Promise<void>;
}

export class BlobTooLargeError extends Error {
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super(`The blob is larger than ${maxBytes} bytes.`);
    this.name = 'BlobTooLargeError';
    this.maxBytes = maxBytes;
  }
}

/** A put whose owner was released whole (`releaseAll`) while its bytes were arriving. */
export class BlobPutRevokedError extends Error {
  constructor(owner: string) {
    super(`The put of ${owner} was revoked while it ran.`);
    this.name = 'BlobPutRevokedError';
  }
}

const KEY = /^sha256-[0-9a-f]{64}$/;

/** Whether `key` has the shape of a blob key (so that it can be used in a path or a query safely). */
export function isBlobKey(key: string): boolean {
  return KEY.test(key);
}
