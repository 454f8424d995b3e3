// What the files actor deletes without being asked by a message's deletion: the files of a
// deleted room, and the uploads whose message never came (docs/files.md, "Deletion").
//
// A deleted room's files: the room's `room.deleted` activity becomes one durable WorkQueue job
// (at least once: a job whose node dies is delivered again), worked a page of files at a time,
// and handed back to the queue as a new job after PAGES_PER_JOB pages, so that one room with
// many files neither holds a consumer for long nor has to start over after a crash (what was
// deleted stays deleted; the next delivery lists what is left).
//
// Uploads never attached: a record is made when an upload begins (before a byte is stored), so a
// gateway or node that dies anywhere between the bytes and the message leaves a record naming
// the blob's owner. Every actors node sweeps, a bounded page per pass: records on no message
// older than the grace period are released (every blob their id owns, and any unfinished put of
// it) and removed. Every step is idempotent, so two nodes sweeping the same record at once do
// the same work twice and no harm; the passes are spread with jitter so they seldom do.
import type { BlobStore } from '../../storage/blob-store.ts';
import { previewBlobOf, type FileRecord, type FileStore } from '../../storage/file-store.ts';
import type { WorkQueue } from '../../storage/interfaces.ts';
import { previewOwner } from './preview/preview-job.ts';

/** Files deleted per page, and pages per job before the job is queued again for the rest. */
const PAGE = 100;
const PAGES_PER_JOB = 10;
/** Uploads released per sweep pass. */
const SWEEP_PAGE = 100;
/** A deletion retried past this many previews recorded under it is a bug, not a race. */
const REMOVE_ROUNDS = 5;

export interface RoomFilesJob {
  roomId: string;
}

export interface CleanupLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class FileCleanup {
  private readonly store: FileStore;
  private readonly blobs: BlobStore;
  private readonly queue: WorkQueue;
  private readonly queueName: string;
  private readonly graceMs: number;
  private readonly log: CleanupLog;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(options: { store: FileStore; blobs: BlobStore; queue: WorkQueue; queueName: string; graceMs: number; log: CleanupLog }) {
    this.store = options.store;
    this.blobs = options.blobs;
    this.queue = options.queue;
    this.queueName = options.queueName;
    this.graceMs = options.graceMs;
    this.log = options.log;
  }

  /**
   * Deletes a file: its blob reference, its preview's, then the record last (a failure between
   * leaves a record to retry from). A preview job may record a preview while this runs, on
   * another node: the record goes only once the preview blob recorded on it is released
   * (FileStore.removeReleased; file-previews.ts releases what it could not record).
   */
  async remove(file: FileRecord): Promise<void> {
    await this.blobs.release(file.id, file.blobKey);
    let preview = file.preview;
    for (let round = 0; round < REMOVE_ROUNDS; round++) {
      const blob = previewBlobOf(preview);
      if (blob) await this.blobs.release(previewOwner(file.id), blob);
      if (await this.store.removeReleased(file.id, blob)) return;
      preview = (await this.store.get(file.id))?.preview;
    }
    throw new Error(`the record of file ${file.id} kept changing while it was deleted`);
  }

  /** A room was deleted: its files go, through the queue. */
  roomDeleted(roomId: string): Promise<void> {
    return this.queue.publish(this.queueName, { roomId } satisfies RoomFilesJob);
  }

  /** One delivery of a room's job: up to PAGES_PER_JOB pages, then the rest as a new job. */
  async handleRoomJob(job: RoomFilesJob): Promise<void> {
    let after: string | undefined;
    for (let pages = 0; pages < PAGES_PER_JOB; pages++) {
      const files = await this.store.listByRoom(job.roomId, { max: PAGE, after });
      for (const file of files) await this.remove(file);
      if (files.length < PAGE) return;
      after = files[files.length - 1].id;
    }
    await this.queue.publish(this.queueName, job);
  }

  /** How long after its start an upload may still become a file: half the grace, so that a file the sweep takes is never being attached. */
  get storeDeadlineMs(): number {
    return this.graceMs / 2;
  }

  /** Starts the periodic sweep: every half grace period, at most every 5 minutes, at least every second, with jitter. */
  start(): void {
    const every = Math.min(300_000, Math.max(1000, this.graceMs / 2));
    const next = () => {
      this.timer = setTimeout(() => {
        void this.sweep().finally(next);
      }, every * (0.75 + Math.random() * 0.5));
      this.timer.unref();
    };
    next();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /** One pass: releases and removes up to SWEEP_PAGE uploads that stayed off any message past the grace period. */
  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        const before = new Date(Date.now() - this.graceMs).toISOString();
        const stale = await this.store.listUnattached(before, SWEEP_PAGE);
        for (const file of stale) {
          await this.blobs.releaseAll(file.id);
          await this.store.remove(file.id);
        }
        if (stale.length > 0) this.log.info({ count: stale.length }, 'released uploads that never reached a message');
      } catch (err) {
        this.log.warn({ err }, 'sweeping the uploads that never reached a message failed; the next pass retries');
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }
}
