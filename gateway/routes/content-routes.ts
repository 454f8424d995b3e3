// GET and HEAD /v1/contents/{contentId}: a file of a message, to the members of its room only
// (the files actor decides; others get the 404 of a file that does not exist), streamed from
// the BlobStore with backpressure. Served as Webex and browsers expect of a download, and so
// that a hostile file cannot run as a page of this origin: the type sniffed from the bytes,
// `nosniff`, a sandboxing CSP, and `attachment` for HTML, SVG, scripts and unknown types.
import type { BlobStore, ByteRange } from '../../storage/blob-store.ts';
import type { FileRecord } from '../../storage/file-store.ts';
import { HttpError } from '../http/http-errors.ts';
import type { Reply, Route, RouteContext } from '../http/router.ts';

export function contentRoutes(blobs: BlobStore | undefined): Route[] {
  const handle = async (ctx: RouteContext): Promise<Reply> => {
    const file = await ctx.call<FileRecord>('files.content', { contentId: ctx.request.params.contentId });
    if (!blobs) throw new HttpError(503, 'This node cannot serve files.');
    const store = blobs;
    const etag = `"${file.blobKey.slice('sha256-'.length)}"`;
    const headers: Record<string, string> = {
      'Content-Type': file.type,
      'Content-Disposition': contentDisposition(file.disposition, file.name),
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cache-Control': 'private, max-age=0, must-revalidate',
      'Accept-Ranges': 'bytes',
      ETag: etag,
    };
    if (matchesEtag(ctx.request.headers['if-none-match'], etag)) return { status: 304, headers };
    const range = rangeOf(ctx.request.headers['range'], ctx.request.headers['if-range'], etag, file.size);
    if (range === 'unsatisfiable') {
      throw new HttpError(416, `The range is outside the file's ${file.size} bytes.`, { 'Content-Range': `bytes */${file.size}` });
    }
    const open = () => store.read(file.blobKey, range ?? undefined);
    if (!range) return { status: 200, headers, stream: { length: file.size, open } };
    return {
      status: 206,
      headers: { ...headers, 'Content-Range': `bytes ${range.start}-${range.end}/${file.size}` },
      stream: { length: range.end - range.start + 1, open },
    };
  };
  /** The preview image of a file (docs/previews.md): to the same members, immutable for its ETag (its content hash). */
  const preview = async (ctx: RouteContext): Promise<Reply> => {
    const image = await ctx.call<{ blobKey: string; mime: string }>('files.preview', { contentId: ctx.request.params.contentId });
    if (!blobs) throw new HttpError(503, 'This node cannot serve files.');
    const store = blobs;
    const info = await store.stat(image.blobKey);
    if (!info) throw new HttpError(404, 'The file has no preview image.');
    const etag = `"${image.blobKey.slice('sha256-'.length)}"`;
    const headers: Record<string, string> = {
      // Only what the sandbox writes (image/webp, image/png) is ever here: never a type a browser would run.
      'Content-Type': image.mime,
      'Content-Disposition': 'inline',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cache-Control': 'private, max-age=0, must-revalidate',
      ETag: etag,
    };
    if (matchesEtag(ctx.request.headers['if-none-match'], etag)) return { status: 304, headers };
    return { status: 200, headers, stream: { length: info.size, open: () => store.read(image.blobKey) } };
  };
  return [
    { method: 'get', path: '/v1/contents/:contentId', handle },
    { method: 'head', path: '/v1/contents/:contentId', handle },
    { method: 'get', path: '/v1/contents/:contentId/preview', handle: preview },
    { method: 'head', path: '/v1/contents/:contentId/preview', handle: preview },
  ];
}

/** RFC 6266: an ASCII fallback in `filename`, the exact name in `filename*` (RFC 8187, UTF-8). */
export function contentDisposition(disposition: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.trim() === '*' || header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * The one range of a `Range: bytes=…` header (RFC 9110 §14.1.2): `a-b`, `a-` or `-suffix`.
 * Undefined for none, for one that is not a byte range, for several ranges and for an If-Range
 * that does not match (the whole file then, as the RFC allows); `unsatisfiable` for 416.
 */
export function rangeOf(header: string | undefined, ifRange: string | undefined, etag: string, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  if (ifRange !== undefined && ifRange.trim() !== etag) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return undefined;
  return { start, end };
}
