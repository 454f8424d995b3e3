// The `files` actor: the records of the files on messages (name, size, sniffed type, blob),
// who may read them, and their deletion with their message.
//
// Where the bytes go (a decision): the gateway streams an upload into the BlobStore itself,
// under this actor's authority, and this actor never carries a file's bytes in an action.
// Moleculer can pass a stream as a call's parameter, but across NATS its transit has no flow
// control from the receiver (the sender waits only until each chunk is published), so a slow
// store, or a slow downloader on the way back, would pile a 100 MB file up in a process's
// memory. So: `beginUpload` checks the caller may post in the room and names the file; the
// gateway puts the bytes as that name (the blob's owner); `stored` makes the record (reading
// the first bytes back from the store to sniff the type); `attach` binds it to the committed
// message; `content` is the check before a gateway streams a file out. The gateway touches only
// the blobs this actor's answers name.
//
// What goes without a message's deletion (file-cleanup.ts): the files of a deleted room, through
// a durable queue, and uploads whose message never came, by a periodic sweep. So that the sweep
// finds those whatever the point a process died at, `beginUpload` records the upload before a
// byte is stored, and `stored` takes an upload only within half the grace period.
//
// Previews (file-previews.ts): `attach` queues one durable job per file; this actor's
// consumer, on any node, renders it and has the rooms actor show it on the message.
import type { Context, ServiceSchema } from 'moleculer';
import { callerOf } from '../../contracts/caller.ts';
import { badRequest, notFound } from '../../contracts/errors.ts';
import { newId } from '../../contracts/ids.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { previewBlobOf, type FileRecord, type FileStore } from '../../storage/file-store.ts';
import type { WorkQueue } from '../../storage/interfaces.ts';
import type { Activity } from '../../storage/records.ts';
import type { LookupFunction } from '../outbound-fetch.ts';
import type { OutboundPolicy } from '../outbound-policy.ts';
import * as p from '../params.ts';
import { queueOperatorActions } from '../queue-operator-actions.ts';
import { contentTypeOf, SNIFF_BYTES } from './content-type.ts';
import { type CleanupLog, FileCleanup, type RoomFilesJob } from './file-cleanup.ts';
import type { FilePreviews } from './file-previews.ts';
import { readAll } from './read-all.ts';
import { UrlFetcher } from './url-fetch.ts';

export interface FilesSettings {
  /** The largest file accepted (Webex: 100 MB). */
  maxFileBytes: number;
  /** A `files` URL: the policy it is fetched under, and the time its whole body may take. */
  policy: OutboundPolicy;
  fetchTimeoutMs: number;
  connectTimeoutMs: number;
  lookup?: LookupFunction;
  /** An upload on no message this long after it began is deleted (SQUARED_UPLOAD_GRACE_MS). */
  uploadGraceMs: number;
}

/** The event after a file's message is committed: the previews' hook (docs/files.md). */
export const FILE_STORED_EVENT = 'files.stored';

const name = { type: 'string', min: 1, max: 1024 } as const;

/** Deliveries of a deleted room's job before it is dead-lettered, and the wait before a retry. */
const ROOM_JOB_RETRIES = { maxAttempts: 10, backoffMs: 2000, concurrency: 2 };

/** Test-only (cluster/fault-injection.ts): the deletions this actor would hear of, unheard. */
export interface FilesFaults {
  dropDeletionEvents?: boolean;
}

export function createFilesService({ store, blobs, queue, queueName, settings, previews, faults = {} }: { store: FileStore; blobs: BlobStore; queue: WorkQueue; queueName: string; settings: FilesSettings; previews: FilePreviews; faults?: FilesFaults }): ServiceSchema {
  let fetcher: UrlFetcher | undefined;
  let cleanup: FileCleanup;
  let log: CleanupLog | undefined;
  let stopConsumer: (() => Promise<void>) | undefined;

  /** The caller is a member of the room now (the rooms policy, asked of the rooms actor). */
  async function isMember(ctx: Context, roomId: string, personId: string): Promise<boolean> {
    const members = await ctx.call<string[], object>('rooms.membersAmong', { roomId, personIds: [personId] });
    return members.includes(personId);
  }

  /**
   * A file the caller may read: attached, in a room they are a member of, on a message that
   * still exists. A message (or room) deleted is heard as an event, which a node that was down
   * or an attach racing the deletion can miss: a file found on a message gone is deleted here
   * (idempotent, as every deletion of a file is), so it is never served after its message.
   */
  async function readable(ctx: Context, contentId: string): Promise<FileRecord> {
    const file = await store.get(contentId);
    // One answer for "no such file", "not on a message yet" and "not yours to read": nothing is learnt.
    if (!file?.roomId || !file.messageId || !(await isMember(ctx, file.roomId, callerOf(ctx).id))) throw notFound('File not found.');
    if (!(await ctx.call<boolean, object>('rooms.messageExists', { messageId: file.messageId }))) {
      await cleanup.remove(file).catch((err: unknown) => log?.warn({ err, fileId: file.id }, 'deleting a file of a deleted message failed (the next read tries again)'));
      throw notFound('File not found.');
    }
    return file;
  }

  async function mustBeMember(ctx: Context, roomId: string | undefined): Promise<void> {
    // The same answer for a room that does not exist: the message's creation answers for it then.
    if (roomId && !(await isMember(ctx, roomId, callerOf(ctx).id))) throw notFound('Room not found.');
  }

  /** The record of an upload that begins: what a sweep finds if its message never comes. */
  async function begin(ctx: Context): Promise<string> {
    const id = newId('CONTENT');
    await store.put({ id, name: '', size: 0, type: 'application/octet-stream', disposition: 'attachment', blobKey: '', uploaderId: callerOf(ctx).id, created: new Date().toISOString(), state: 'uploading' });
    return id;
  }

  /** The record of a blob just put as `fileId`, its type sniffed from the stored bytes. */
  async function record(ctx: Context, fileId: string, blobKey: string, size: number, fileName: string): Promise<FileRecord> {
    const upload = await store.get(fileId);
    if (!upload || upload.uploaderId !== callerOf(ctx).id || upload.state !== 'uploading') throw badRequest('No such upload.');
    // Late past half the grace period: the sweep may take it any time now (file-cleanup.ts).
    if (Date.now() - Date.parse(upload.created) > cleanup.storeDeadlineMs) throw badRequest('The upload took too long.');
    const owners = await blobs.owners(blobKey);
    if (!owners.includes(fileId)) throw badRequest('No such upload.');
    const sniffed = size === 0 ? undefined : await blobs.read(blobKey, { start: 0, end: Math.min(size, SNIFF_BYTES) - 1 });
    if (size > 0 && !sniffed) throw notFound('File not found.');
    const head = sniffed ? await readAll(sniffed, SNIFF_BYTES) : Buffer.alloc(0);
    const file: FileRecord = {
      id: fileId, name: fileName, size, blobKey, ...(await contentTypeOf(head, fileName)), uploaderId: upload.uploaderId, created: upload.created, state: 'stored',
    };
    await store.put(file);
    return file;
  }

  async function pendingOf(ctx: Context, fileId: string): Promise<FileRecord> {
    const file = await store.get(fileId);
    if (!file || file.uploaderId !== callerOf(ctx).id) throw notFound('File not found.');
    if (file.messageId) throw badRequest('The file is on a message already.');
    return file;
  }

  return {
    name: 'files',
    actions: {
      ...queueOperatorActions(queue, [{ name: queueName, purpose: 'file deletions' }, { name: previews.queueName, purpose: 'previews' }]),
      beginUpload: {
        visibility: 'published',
        params: { roomId: p.optionalId },
        async handler(ctx: Context<{ roomId?: string }>) {
          await mustBeMember(ctx, ctx.params.roomId);
          return { fileId: await begin(ctx), maxBytes: settings.maxFileBytes };
        },
      },
      stored: {
        visibility: 'published',
        params: { fileId: p.id, blobKey: { type: 'string', max: 80 }, size: { type: 'number', integer: true, min: 0 }, name },
        handler: (ctx: Context<{ fileId: string; blobKey: string; size: number; name: string }>) => record(ctx, ctx.params.fileId, ctx.params.blobKey, ctx.params.size, ctx.params.name),
      },
      fetch: {
        visibility: 'published',
        params: { url: { type: 'string', max: 2048 }, roomId: p.optionalId },
        async handler(ctx: Context<{ url: string; roomId?: string }>) {
          await mustBeMember(ctx, ctx.params.roomId);
          const fileId = await begin(ctx);
          fetcher ??= new UrlFetcher(settings);
          try {
            const fetched = await fetcher.fetchInto(blobs, fileId, ctx.params.url);
            return await record(ctx, fileId, fetched.key, fetched.size, fetched.name);
          } catch (err) {
            await blobs.releaseAll(fileId).then(() => store.remove(fileId)).catch(() => undefined);
            throw err;
          }
        },
      },
      attach: {
        visibility: 'published',
        params: { fileId: p.id, messageId: p.id, roomId: p.id },
        async handler(ctx: Context<{ fileId: string; messageId: string; roomId: string }>) {
          const pending = await pendingOf(ctx, ctx.params.fileId);
          if (pending.state === 'uploading') throw badRequest('No such upload.');
          const file: FileRecord = { ...pending, messageId: ctx.params.messageId, roomId: ctx.params.roomId, state: 'attached' };
          await store.put(file);
          // The room deleted between the message's commit and now: its job may have listed the
          // room's files already, without this one, so it goes here (a member is one while the room is).
          if (!(await isMember(ctx, file.roomId!, file.uploaderId))) {
            await cleanup.remove(file);
            return file;
          }
          // Durable before the answer (a publish, never the render): a node dying now loses no preview.
          await previews.queue(file).catch((err: unknown) => this.logger.error({ err, fileId: file.id }, 'queueing the preview of a file failed: it gets none'));
          ctx.emit(FILE_STORED_EVENT, { file });
          return file;
        },
      },
      discard: {
        visibility: 'published',
        params: { fileId: p.id },
        async handler(ctx: Context<{ fileId: string }>) {
          const file = await pendingOf(ctx, ctx.params.fileId);
          await blobs.releaseAll(file.id);
          await store.remove(file.id);
          return null;
        },
      },
      content: {
        visibility: 'published',
        params: { contentId: p.id },
        handler: (ctx: Context<{ contentId: string }>) => readable(ctx, ctx.params.contentId),
      },
      preview: {
        visibility: 'published',
        params: { contentId: p.id },
        async handler(ctx: Context<{ contentId: string }>) {
          const file = await readable(ctx, ctx.params.contentId);
          // A text snippet, none, or not yet: the message says which; there is no image to serve.
          if (!previewBlobOf(file.preview) || file.preview?.state !== 'ready' || file.preview.kind === 'text') throw notFound('The file has no preview image.');
          return { blobKey: file.preview.blobKey, mime: file.preview.mime };
        },
      },
    },
    events: {
      'rooms.activities': {
        async handler(ctx: Context<{ activities: Activity[] }>) {
          if (faults.dropDeletionEvents) return;
          for (const activity of ctx.params.activities) {
            if (activity.event === 'room.deleted') {
              await cleanup.roomDeleted(activity.roomId).catch((err: unknown) => this.logger.error({ err, roomId: activity.roomId }, 'queueing the deletion of a deleted room\'s files failed'));
            }
            if (activity.event !== 'message.deleted') continue;
            const messageId = (activity.data as { id: string }).id;
            try {
              for (const file of await store.listByMessage(messageId)) await cleanup.remove(file);
            } catch (err) {
              this.logger.error({ err, messageId }, 'deleting the files of a deleted message failed');
            }
          }
        },
      },
    },
    async started() {
      log = this.logger;
      cleanup = new FileCleanup({ store, blobs, queue, queueName, graceMs: settings.uploadGraceMs, log: this.logger });
      stopConsumer = await queue.consume(queueName, (job) => cleanup.handleRoomJob(job as RoomFilesJob), ROOM_JOB_RETRIES);
      cleanup.start();
      await previews.start(this.broker, this.logger);
    },
    async stopped() {
      await previews.stop();
      await stopConsumer?.();
      await cleanup?.stop();
      await fetcher?.close();
    },
  };
}

