// Avatars over HTTP: uploading one (an image body, or a multipart/form-data file as browsers
// send it), serving its renditions and the generated defaults with year-long caching, and the
// absolute `avatar` URL on every person the people routes answer.
import { Readable } from 'node:stream';
import busboy from 'busboy';
import { HttpError } from '../http/http-errors.ts';
import type { Reply, Route, RouteContext } from '../http/router.ts';
import { defaultAvatarPath, defaultAvatarSvg } from './default-avatar.ts';

/** What is served under a versioned URL never changes: cached for a year, never revalidated. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** A 640 px PNG is well under this; more would be a broken store, not an avatar. */
const MAX_RENDITION_BYTES = 4 * 1024 * 1024;

/** The image of an upload: the body itself for image/*, the form's one file for multipart. */
async function uploadedImage(ctx: RouteContext): Promise<Buffer> {
  const type = ctx.request.headers['content-type'] ?? '';
  if (/^image\/[\w.+-]+\s*(;|$)/i.test(type)) return ctx.rawBody;
  if (!/^multipart\/form-data\s*;/i.test(type)) throw new HttpError(415, 'Send the avatar as an image/* body or as a file in a multipart/form-data body.');
  return new Promise<Buffer>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: { 'content-type': type }, limits: { files: 1, fields: 20, parts: 21, fieldSize: 1024 } });
    } catch (err) {
      reject(new HttpError(400, `The multipart body cannot be read: ${(err as Error).message}`));
      return;
    }
    const chunks: Buffer[] = [];
    let files = 0;
    parser.on('file', (_name, stream) => {
      files++;
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    });
    parser.on('filesLimit', () => reject(new HttpError(400, 'Send one file only.')));
    parser.on('error', (err: Error) => reject(new HttpError(400, `The multipart body cannot be read: ${err.message}`)));
    parser.on('close', () => (files === 0 ? reject(new HttpError(400, 'The multipart body has no file.')) : resolve(Buffer.concat(chunks))));
    parser.end(ctx.rawBody);
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > MAX_RENDITION_BYTES) throw new Error('an avatar rendition is larger than any should be');
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

function cached(ctx: RouteContext, etag: string, contentType: string, body: () => Promise<Buffer> | Buffer): Promise<Reply> | Reply {
  const headers = { 'Cache-Control': IMMUTABLE, ETag: etag, 'X-Content-Type-Options': 'nosniff' };
  if (ctx.request.headers['if-none-match'] === etag) return { status: 304, headers };
  return Promise.resolve(body()).then((bytes) => ({ status: 200, raw: { contentType, body: bytes }, headers }));
}

async function serveDefault(ctx: RouteContext): Promise<Reply> {
  const { file = '' } = ctx.request.params;
  const svg = defaultAvatarSvg(file);
  if (!svg) throw new HttpError(404, 'Avatar not found.');
  // An SVG opened on its own is a document: this one may run nothing and load nothing.
  const reply = await cached(ctx, `"${Buffer.from(file).toString('base64url')}"`, 'image/svg+xml', () => Buffer.from(svg));
  return { ...reply, headers: { ...reply.headers, 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'" } };
}

async function serveRendition(ctx: RouteContext): Promise<Reply> {
  const { version = '', rendition = '' } = ctx.request.params;
  const contentType = rendition.endsWith('.webp') ? 'image/webp' : 'image/png';
  return cached(ctx, `"${version}-${rendition}"`, contentType, async () => readAll(await ctx.call<Readable>('avatars.rendition', { version, rendition })));
}

export function avatarRoutes(maxBytes: number): Route[] {
  const upload: Route['handle'] = async (ctx) => {
    const image = await uploadedImage(ctx);
    return { status: 200, body: await ctx.call('avatars.set', { personId: ctx.request.params.personId }, Readable.from([image])) };
  };
  return [
    // `me` or a person's id; the actor tells them apart (only administrators change others').
    { method: 'put', path: '/v1/people/:personId/avatar', rawBody: { maxBytes }, handle: upload },
    {
      method: 'delete',
      path: '/v1/people/:personId/avatar',
      handle: async (ctx) => {
        await ctx.call('avatars.remove', { personId: ctx.request.params.personId });
        return { status: 204 };
      },
    },
    // Public, as Webex's avatar URLs: an <img> sends no token. The version is unguessable.
    { method: 'get', path: '/v1/avatars/default/:file', public: true, handle: serveDefault },
    { method: 'get', path: '/v1/avatars/:version/:rendition', public: true, handle: serveRendition },
  ];
}

/** A person's `avatar` as an absolute URL: theirs when it is a path of this server, the generated default when they have none. */
function presentAvatar(ctx: RouteContext, person: unknown): unknown {
  if (typeof person !== 'object' || person === null || typeof (person as { id?: unknown }).id !== 'string') return person;
  const record = person as { id: string; avatar?: unknown };
  const avatar = typeof record.avatar === 'string' && record.avatar !== '' ? record.avatar : defaultAvatarPath(record);
  return { ...record, avatar: avatar.startsWith('/') ? ctx.url(avatar, {}) : avatar };
}

/** The route, with `avatar` presented on the person (or the page of people) it answers. */
export function withAvatars(route: Route): Route {
  return {
    ...route,
    async handle(ctx) {
      // A client updating a person sends back the whole person, `avatar` as this server gave it:
      // an avatar of this server changes through its own routes only, so that one is dropped.
      if (typeof ctx.body.avatar === 'string' && ctx.body.avatar.startsWith(ctx.url('/v1/avatars/', {}))) {
        const { avatar: _echoed, ...rest } = ctx.body;
        ctx = { ...ctx, body: rest };
      }
      const reply = await route.handle(ctx);
      if (reply.status !== 200 || typeof reply.body !== 'object' || reply.body === null) return reply;
      const body = reply.body as { items?: unknown[] };
      return { ...reply, body: Array.isArray(body.items) ? { ...body, items: body.items.map((item) => presentAvatar(ctx, item)) } : presentAvatar(ctx, body) };
    },
  };
}
