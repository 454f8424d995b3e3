// Avatars over HTTP: the generated default of a person who has none, served with year-long
// caching, and the absolute `avatar` URL on every person the people routes answer.
import { HttpError } from '../http/http-errors.ts';
import type { Reply, Route, RouteContext } from '../http/router.ts';
import { defaultAvatarPath, defaultAvatarSvg } from './default-avatar.ts';

/** What is served under a versioned URL never changes: cached for a year, never revalidated. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

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

export function avatarRoutes(): Route[] {
  // Public, as Webex's avatar URLs: an <img> sends no token.
  return [{ method: 'get', path: '/v1/avatars/default/:file', public: true, handle: serveDefault }];
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
