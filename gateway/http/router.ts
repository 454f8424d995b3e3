// Registers REST routes on the uWS app and runs each request through one pipeline:
// read → framing check → address refused? → authenticate → rate-limit → parse body →
// handle → respond. What costs work (a token lookup, parsing a body) comes after the checks
// that cost none, and a body is parsed only for a caller allowed to send it. Every failure
// on the way is answered by toErrorReply; 405 and 404 are answered for unknown methods and
// paths.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from 'moleculer';
import type { CallClient, Caller } from '../../contracts/caller.ts';
import { METRIC, type MetricSink, type RateLimitName } from '../../contracts/metrics.ts';
import { withTrackingId } from '../../contracts/request-tracking.ts';
import type { RateLimitStore } from '../../storage/interfaces.ts';
import type { AnonymousLimit } from '../anonymous-limit.ts';
import { clientOf, readBody, readRequest, type ApiRequest } from './api-request.ts';
import { parseBody } from './body-parser.ts';
import { FramingGuard } from './framing-guard.ts';
import { HttpError, toErrorReply, webexError } from './http-errors.ts';
import type { InFlightRequests } from './in-flight.ts';
import { requestStream } from './request-stream.ts';
import { pipeToResponse } from './stream-reply.ts';

export type HttpMethod = 'get' | 'head' | 'post' | 'put' | 'patch' | 'delete';

export interface Reply {
  status: number;
  body?: unknown;
  /** Sent as is with its own content type instead of `body` as JSON: the meeting page and its script. */
  raw?: { contentType: string; body: string | Buffer };
  headers?: Record<string, string>;
  /** A body streamed with backpressure (a file), `length` bytes; opened only when it is sent (never for HEAD). */
  stream?: { length: number; open(): Promise<Readable | undefined> };
  /** Close the connection after the reply (an upload refused while its body still arrives). */
  closeConnection?: boolean;
}

export interface RouteContext {
  request: ApiRequest;
  body: Record<string, unknown>;
  /** The body's bytes as they came, on a route that takes them so (`rawBody`); else empty. */
  rawBody: Buffer;
  caller: Caller | undefined;
  /** Calls an actor action on behalf of the caller; `stream` goes along as Moleculer's ctx.stream (chunked between nodes). */
  call<T = unknown>(action: string, params: object, stream?: Readable): Promise<T>;
  /** The absolute URL of a path on this server, for Link headers. */
  url(path: string, query: Record<string, string>): string;
  /** The body as a stream, on an `upload` route sent multipart/form-data (then `body` is empty). */
  upload?: Readable;
}

export interface Route {
  method: HttpMethod;
  path: string;
  /** Routes are authenticated unless they say otherwise. */
  public?: boolean;
  /** Health probes are not rate limited. */
  unlimited?: boolean;
  /** The body is handed over unparsed (an image), up to this many bytes instead of the usual limit. */
  rawBody?: { maxBytes: number };
  /**
   * A multipart/form-data body is streamed to the route (`ctx.upload`) rather than collected:
   * up to `maxBytes` (413 past it when declared), cut off after `idleMs` without data (408).
   */
  upload?: { maxBytes: number; idleMs: number };
  handle(ctx: RouteContext): Promise<Reply>;
}

export interface RouterOptions {
  logger: Logger;
  maxBodyBytes: number;
  rateBurst: number;
  ratePerSecond: number;
  publicUrl: string | undefined;
  rateLimits: RateLimitStore;
  /** Requests without a usable token, or with one refused, per address. */
  anonymous: AnonymousLimit;
  authenticate(token: string, trackingId: string): Promise<Caller>;
  call<T>(action: string, params: object, meta: { caller?: Caller; trackingId: string; client?: CallClient }, stream?: Readable): Promise<T>;
  /** The requests being answered, for a graceful drain. */
  inFlight: InFlightRequests;
  /** Where an upload's body waits when its consumer lags behind (request-stream.ts), under the data directory. */
  spoolDir: string;
  metrics: MetricSink;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 204: 'No Content', 206: 'Partial Content', 304: 'Not Modified', 408: 'Request Timeout', 416: 'Range Not Satisfiable', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content', 423: 'Locked',
  429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};
const BEARER = /^Bearer\s+(\S{1,512})\s*$/i;
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:.]+\](:\d{1,5})?$/;
const UWS_METHOD: Record<HttpMethod, 'get' | 'head' | 'post' | 'put' | 'patch' | 'del'> = { get: 'get', head: 'head', post: 'post', put: 'put', patch: 'patch', delete: 'del' };
const MULTIPART = /^multipart\/form-data\s*(;|$)/i;

export function registerRoutes(app: TemplatedApp, routes: Route[], options: RouterOptions): void {
  const newTrackingId = () => `SQUARED_${randomUUID()}`;
  const methodsByPath = new Map<string, HttpMethod[]>();
  const framing = new FramingGuard(app);

  for (const route of routes) {
    const paramNames = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
    methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method]);
    app[UWS_METHOD[route.method]](route.path, (res, req) => {
      const request = readRequest(res, req, paramNames, newTrackingId);
      if (framing.swallow(res, request.remoteAddress)) return;
      const abortListeners: (() => void)[] = [];
      res.onAborted(() => {
        request.aborted = true;
        for (const listener of abortListeners) listener();
      });
      if (request.framingProblem) return refuseFraming(res, request);
      const streamed = route.upload && MULTIPART.test(request.headers['content-type'] ?? '') ? startUpload(res, request, route.upload) : undefined;
      if (streamed?.upload) abortListeners.push(streamed.upload.abort);
      const body = streamed ? streamed.body : route.method === 'post' || route.method === 'put' || route.method === 'patch' ? readBody(res, request, route.rawBody?.maxBytes ?? options.maxBodyBytes) : Promise.resolve(Buffer.alloc(0));
      // The body may be refused (413) while the caller is still being checked, and then never awaited.
      body.catch(() => undefined);
      options.inFlight.enter();
      // Every log line written while this request is served names its trackingId.
      withTrackingId(request.trackingId, () => run(route, request, body, streamed?.upload?.body)).then(async (reply) => {
        // An upload answered before its body was all read (413, 408, a refusal): the rest is not
        // read, and where the next request would start is unknown, so the connection closes.
        const cut = streamed?.upload !== undefined && !streamed.upload.body.readableEnded;
        const close = options.inFlight.draining || reply.closeConnection === true || cut;
        if (!reply.stream || request.aborted) {
          send(res, request, reply, close);
          return options.inFlight.leave();
        }
        const source = route.method === 'head' ? undefined : await reply.stream.open().catch(() => undefined);
        if (request.aborted) {
          source?.destroy();
          return options.inFlight.leave();
        }
        if (route.method !== 'head' && !source) {
          send(res, request, { status: 404, body: webexError(404, 'The requested resource could not be found.', request.trackingId) }, close);
          return options.inFlight.leave();
        }
        writeHead(res, request, reply, false);
        if (!source) {
          res.cork(() => res.endWithoutBody(reply.stream!.length, close));
          return options.inFlight.leave();
        }
        pipeToResponse(res, source, reply.stream.length, close, (listener) => abortListeners.push(listener), () => options.inFlight.leave());
      });
    });
  }

  for (const [path, methods] of methodsByPath) {
    const allow = methods.map((m) => m.toUpperCase()).join(', ');
    app.any(path, (res, req) => rejectSync(res, req, 405, `Method ${req.getMethod().toUpperCase()} is not allowed here.`, { Allow: allow }));
  }
  app.any('/*', (res, req) => rejectSync(res, req, 404, 'The requested resource could not be found.'));

  function rejectSync(res: HttpResponse, req: HttpRequest, status: number, message: string, headers?: Record<string, string>) {
    const request = readRequest(res, req, [], newTrackingId);
    if (framing.swallow(res, request.remoteAddress)) return;
    res.onAborted(() => {
      request.aborted = true;
    });
    if (request.framingProblem) return refuseFraming(res, request);
    // Drain any body so the connection stays usable, then answer.
    res.onData(() => undefined);
    send(res, request, { status, body: webexError(status, message, request.trackingId), headers }, options.inFlight.draining);
  }

  /** 400, at once, and the connection closed: where this request ends is a guess (framing-guard.ts). */
  function refuseFraming(res: HttpResponse, request: ApiRequest) {
    send(res, request, { status: 400, body: webexError(400, request.framingProblem!, request.trackingId) }, true);
    framing.refused(request.remoteAddress);
  }

  /** A multipart body streamed to an upload route, or refused at once when it declares more than the route takes. */
  function startUpload(res: HttpResponse, request: ApiRequest, limits: { maxBytes: number; idleMs: number }) {
    const declared = Number(request.headers['content-length'] ?? 0);
    const upload = requestStream(res, limits.idleMs, limits.maxBytes, options.spoolDir);
    // Refused at once when its declared length is too much (the connection then closes, see above).
    if (declared > limits.maxBytes) return { body: Promise.reject(new HttpError(413, `The request body exceeds ${limits.maxBytes} bytes.`)), upload };
    return { body: Promise.resolve(Buffer.alloc(0)), upload };
  }

  async function run(route: Route, request: ApiRequest, rawBody: Promise<Buffer>, upload: Readable | undefined): Promise<Reply> {
    try {
      const caller = await admit(route, request);
      const raw = await rawBody;
      const body = upload || route.rawBody ? {} : parseBody(raw, request.headers['content-type']);
      return await route.handle({
        request,
        body,
        rawBody: route.rawBody ? raw : Buffer.alloc(0),
        upload,
        caller,
        call: (action, params, stream) => options.call(action, params, { caller, trackingId: request.trackingId, client: clientOf(request) }, stream),
        url: (path, query) => absoluteUrl(request, path, query),
      });
    } catch (err) {
      upload?.destroy();
      // The people actor's password throttle answers the token endpoint with an OAuth 429.
      const { type, code } = (err ?? {}) as { type?: unknown; code?: unknown };
      if (type === 'OAUTH' && code === 429) options.metrics.increment(METRIC.rateLimited, { limit: 'password' });
      return toErrorReply(err, request.trackingId, options.logger);
    }
  }

  /**
   * Who asks, and whether they may ask now: an address refused for its failed attempts is
   * turned away first; a request without a usable token, or with one refused, spends from
   * the address's bucket; then the caller's (or, on public routes, the address's) rate limit.
   */
  async function admit(route: Route, request: ApiRequest): Promise<Caller | undefined> {
    const address = request.remoteAddress;
    const refusedFor = route.unlimited ? 0 : options.anonymous.refusal(address);
    if (refusedFor > 0) throw rejected('anonymous', tooManyFailures(refusedFor));
    let caller: Caller | undefined;
    let rateKey = `ip:${address}`;
    if (!route.public) {
      const match = BEARER.exec(request.headers['authorization'] ?? '');
      try {
        if (!match) throw new HttpError(401, 'The request requires a valid access token set in the Authorization request header.');
        caller = await options.authenticate(match[1], request.trackingId);
      } catch (err) {
        if (statusOf(err) === 401) {
          const waitSeconds = await options.anonymous.failed(address);
          if (waitSeconds > 0) throw rejected('anonymous', tooManyFailures(waitSeconds));
        }
        throw err;
      }
      rateKey = `person:${caller.id}`;
    }
    if (route.unlimited) return caller;
    const limit = await options.rateLimits.take(rateKey, options.rateBurst, options.ratePerSecond);
    if (!limit.allowed) throw rejected(caller ? 'person' : 'address', new HttpError(429, 'Too many requests; retry after the number of seconds in Retry-After.', { 'Retry-After': String(limit.retryAfterSeconds) }));
    return caller;
  }

  function rejected(limit: RateLimitName, err: HttpError): HttpError {
    options.metrics.increment(METRIC.rateLimited, { limit });
    return err;
  }

  function absoluteUrl(request: ApiRequest, path: string, query: Record<string, string>): string {
    const host = request.headers['host'];
    const base = options.publicUrl ?? (host && HOST.test(host) ? `https://${host}` : 'https://localhost');
    const search = new URLSearchParams(query).toString();
    return `${base}${path}${search ? `?${search}` : ''}`;
  }
}

const statusOf = (err: unknown): unknown => (err instanceof HttpError ? err.status : (err as { code?: unknown })?.code);

const tooManyFailures = (seconds: number) =>
  new HttpError(429, 'Too many requests without a valid access token from this address; retry after the number of seconds in Retry-After.', { 'Retry-After': String(seconds) });

function send(res: HttpResponse, request: ApiRequest, reply: Reply, closeConnection: boolean): void {
  if (request.aborted) return;
  const payload = reply.raw?.body ?? (reply.body === undefined || reply.status === 204 || reply.status === 304 ? undefined : JSON.stringify(reply.body));
  res.cork(() => {
    writeHead(res, request, reply, payload !== undefined);
    // A HEAD answer announces the length of the body a GET would get, and sends none.
    if (request.method.toLowerCase() === 'head') res.endWithoutBody(payload === undefined ? 0 : Buffer.byteLength(payload), closeConnection);
    // With closeConnection uWS writes `Connection: close` itself (a header of ours made it twice).
    else res.end(payload, closeConnection);
  });
}

/** The status line and headers (Content-Type only for a JSON or raw payload: a streamed reply names its own). */
function writeHead(res: HttpResponse, request: ApiRequest, reply: Reply, payload: boolean): void {
  res.cork(() => {
    res.writeStatus(`${reply.status} ${STATUS_TEXT[reply.status] ?? ''}`.trim());
    res.writeHeader('TrackingID', request.trackingId);
    if (payload) res.writeHeader('Content-Type', reply.raw?.contentType ?? 'application/json;charset=UTF-8');
    for (const [key, value] of Object.entries(reply.headers ?? {})) res.writeHeader(key, value);
  });
}
