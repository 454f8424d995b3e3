// POST /v1/messages with a file: sent as multipart/form-data (one `files` part, streamed into
// the BlobStore as it arrives) or as a `files` URL in JSON (fetched by the files actor under the
// SSRF policy). Either way the message carries `https://<host>/v1/contents/{id}` and the file
// record is bound to it once it is committed. Without a file, the plain create.
//
// The order, and why: the room is checked before a byte is stored (the target fields must come
// before the file part, documented in docs/files.md); the file is stored before the message is
// created (a message never points at bytes that are not there); a message that is refused, or
// an Idempotency-Key replay that answers an earlier message, discards the file just stored.
import type { Readable } from 'node:stream';
import { BlobTooLargeError, type BlobStore } from '../../storage/blob-store.ts';
import type { FileRecord } from '../../storage/file-store.ts';
import { HttpError } from '../http/http-errors.ts';
import { readForm, type FilePart } from '../http/multipart-form.ts';
import type { Reply, Route, RouteContext } from '../http/router.ts';
import { fromWrite } from './resource-routes.ts';

export interface UploadLimits {
  maxFileBytes: number;
  /** A client that sends nothing for this long is cut off (408). */
  idleMs: number;
  /** Bytes of one text field of the form (the JSON body's limit). */
  maxFieldBytes: number;
}

const TARGET_FIELDS = ['roomId', 'toPersonId', 'toPersonEmail'];
const MESSAGE_FIELDS = ['roomId', 'toPersonId', 'toPersonEmail', 'text', 'markdown', 'parentId'];
/** Room for the form's boundaries, part headers and text fields around the file. */
const FORM_OVERHEAD_BYTES = 1024 * 1024;

export function messageCreateRoute(blobs: BlobStore | undefined, limits: UploadLimits): Route {
  return {
    method: 'post',
    path: '/v1/messages',
    upload: { maxBytes: limits.maxFileBytes + FORM_OVERHEAD_BYTES, idleMs: limits.idleMs },
    async handle(ctx) {
      if (ctx.upload) return createWithUpload(ctx, ctx.upload);
      const params: Record<string, unknown> = fromWrite(ctx);
      const files = params.files;
      if (Array.isArray(files) && files.length === 1 && typeof files[0] === 'string' && !isOurContent(ctx, files[0])) {
        const file = await ctx.call<FileRecord>('files.fetch', { url: files[0], roomId: params.roomId });
        return post(ctx, { ...params, files: [contentUrl(ctx, file.id)] }, file);
      }
      return { status: 200, body: await ctx.call('rooms.createMessage', params) };
    },
  };

  async function createWithUpload(ctx: RouteContext, upload: Readable): Promise<Reply> {
    if (!blobs) throw new HttpError(503, 'This node cannot store files.');
    const store = blobs;
    let kept: Promise<FileRecord> | undefined;
    const form = await readForm(upload, ctx.request.headers['content-type'] ?? '', { maxFileBytes: limits.maxFileBytes, maxFieldBytes: limits.maxFieldBytes, fileField: 'files' }, (part) => (kept = storeFile(part))).catch(async (err: unknown) => {
      // The form failed after its file was stored (a second file part, a field too long): the file
      // goes, in the background, so that the answer (and the connection's close) is not held up
      // while the client may still be sending.
      void kept?.then((file) => ctx.call('files.discard', { fileId: file.id })).catch(() => undefined);
      throw err;
    });
    const params: Record<string, unknown> = { query: ctx.request.query };
    for (const field of MESSAGE_FIELDS) if (form.fields[field] !== undefined && form.fields[field] !== '') params[field] = form.fields[field];
    if (!form.file) return { status: 200, body: await ctx.call('rooms.createMessage', params) };
    return post(ctx, { ...params, files: [contentUrl(ctx, form.file.id)] }, form.file);

    async function storeFile(part: FilePart): Promise<FileRecord> {
      const target = TARGET_FIELDS.filter((field) => part.fieldsSoFar[field] !== undefined);
      if (target.length === 0) {
        part.stream.resume();
        throw new HttpError(400, 'Send roomId, toPersonId or toPersonEmail before the files part.');
      }
      const { fileId, maxBytes } = await ctx.call<{ fileId: string; maxBytes: number }>('files.beginUpload', { roomId: part.fieldsSoFar.roomId });
      let stored;
      try {
        stored = await store.put(fileId, part.stream, { maxBytes });
      } catch (err) {
        part.stream.resume();
        // The upload's record goes (in the background: the answer is not held up by it).
        void ctx.call('files.discard', { fileId }).catch(() => undefined);
        if (err instanceof BlobTooLargeError) throw new HttpError(413, `The file is larger than ${maxBytes} bytes.`);
        throw err;
      }
      try {
        return await ctx.call<FileRecord>('files.stored', { fileId, blobKey: stored.key, size: stored.size, name: part.name.slice(0, 1024) });
      } catch (err) {
        // Refused (e.g. too late): the record and what it owns go, or else the sweep takes them.
        await ctx.call('files.discard', { fileId }).catch(() => store.release(fileId, stored.key)).catch(() => undefined);
        throw err;
      }
    }
  }

  /** Creates the message carrying `file`, then binds the file to it; the file goes if the message does not come. */
  async function post(ctx: RouteContext, params: Record<string, unknown>, file: FileRecord): Promise<Reply> {
    let message: { id: string; roomId: string; files?: string[] };
    try {
      message = await ctx.call('rooms.createMessage', params);
    } catch (err) {
      await ctx.call('files.discard', { fileId: file.id }).catch(() => undefined);
      throw err;
    }
    if (message.files?.[0] !== contentUrl(ctx, file.id)) {
      // An Idempotency-Key replay: the message (and its file) were made by the first request.
      await ctx.call('files.discard', { fileId: file.id }).catch(() => undefined);
    } else {
      await ctx.call('files.attach', { fileId: file.id, messageId: message.id, roomId: message.roomId });
    }
    return { status: 200, body: message };
  }
}

export function contentUrl(ctx: RouteContext, fileId: string): string {
  return ctx.url(`/v1/contents/${fileId}`, {});
}

/** A content URL of this server given back (e.g. a client re-posting what it received) is not fetched from ourselves. */
function isOurContent(ctx: RouteContext, url: string): boolean {
  return url.startsWith(ctx.url('/v1/contents/', {}));
}
