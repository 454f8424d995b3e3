// Registers REST routes on the uWS app and runs each request through one pipeline:
// read → parse body → authenticate → rate-limit → handle → respond. Every failure on the
// way is answered by toErrorReply; 405 and 404 are answered for unknown methods and paths.
import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from 'moleculer';
import type { Caller } from '../../contracts/caller.ts';
import type { RateLimitStore } from '../../storage/interfaces.ts';
import { readBody, readRequest, parseBody, type ApiRequest } from './api-request.ts';
import { HttpError, toErrorReply, webexError } from './http-errors.ts';
import type { InFlightRequests } from './in-flight.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface Reply {
  status: number;
  body?: unknown;
  /** Sent as is with its own content type instead of `body` as JSON: the meeting page and its script. */
  raw?: { contentType: string; body: string | Buffer };
  headers?: Record<string, string>;
}

export interface RouteContext {
  request: ApiRequest;
  body: Record<string, unknown>;
  caller: Caller | undefined;
  /** Calls an actor action on behalf of the caller. */
  call<T = unknown>(action: string, params: object): Promise<T>;
  /** The absolute URL of a path on this server, for Link headers. */
  url(path: string, query: Record<string, string>): string;
}

export interface Route {
  method: HttpMethod;
  path: string;
  /** Routes are authenticated unless they say otherwise. */
  public?: boolean;
  /** Health probes are not rate limited. */
  unlimited?: boolean;
  handle(ctx: RouteContext): Promise<Reply>;
}

export interface RouterOptions {
  logger: Logger;
  maxBodyBytes: number;
  rateBurst: number;
  ratePerSecond: number;
  publicUrl: string | undefined;
  rateLimits: RateLimitStore;
  authenticate(token: string, trackingId: string): Promise<Caller>;
  call<T>(action: string, params: object, meta: { caller?: Caller; trackingId: string }): Promise<T>;
  /** The requests being answered, for a graceful drain. */
  inFlight: InFlightRequests;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 423: 'Locked',
  429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:.]+\](:\d{1,5})?$/;
const UWS_METHOD: Record<HttpMethod, 'get' | 'post' | 'put' | 'patch' | 'del'> = { get: 'get', post: 'post', put: 'put', patch: 'patch', delete: 'del' };

export function registerRoutes(app: TemplatedApp, routes: Route[], options: RouterOptions): void {
  const newTrackingId = () => `SQUARED_${randomUUID()}`;
  const methodsByPath = new Map<string, HttpMethod[]>();

  for (const route of routes) {
    const paramNames = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
    methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method]);
    app[UWS_METHOD[route.method]](route.path, (res, req) => {
      const request = readRequest(res, req, paramNames, newTrackingId);
      res.onAborted(() => {
        request.aborted = true;
      });
      const body = route.method === 'post' || route.method === 'put' || route.method === 'patch' ? readBody(res, request, options.maxBodyBytes) : Promise.resolve(Buffer.alloc(0));
      options.inFlight.enter();
      run(route, request, body).then((reply) => {
        send(res, request, reply, options.inFlight.draining);
        options.inFlight.leave();
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
    res.onAborted(() => {
      request.aborted = true;
    });
    // Drain any body so the connection stays usable, then answer.
    res.onData(() => undefined);
    send(res, request, { status, body: webexError(status, message, request.trackingId), headers }, options.inFlight.draining);
  }

  async function run(route: Route, request: ApiRequest, rawBody: Promise<Buffer>): Promise<Reply> {
    try {
      const body = parseBody(await rawBody, request.headers['content-type']);
      let caller: Caller | undefined;
      let rateKey = `ip:${request.remoteAddress}`;
      if (!route.public) {
        const header = request.headers['authorization'] ?? '';
        const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(header);
        if (!match) throw new HttpError(401, 'The request requires a valid access token set in the Authorization request header.');
        caller = await options.authenticate(match[1], request.trackingId);
        rateKey = `person:${caller.id}`;
      }
      const limit = route.unlimited ? { allowed: true, retryAfterSeconds: 0 } : await options.rateLimits.take(rateKey, options.rateBurst, options.ratePerSecond);
      if (!limit.allowed) throw new HttpError(429, 'Too many requests; retry after the number of seconds in Retry-After.', { 'Retry-After': String(limit.retryAfterSeconds) });
      return await route.handle({
        request,
        body,
        caller,
        call: (action, params) => options.call(action, params, { caller, trackingId: request.trackingId }),
        url: (path, query) => absoluteUrl(request, path, query),
      });
    } catch (err) {
      return toErrorReply(err, request.trackingId, options.logger);
    }
  }

  function absoluteUrl(request: ApiRequest, path: string, query: Record<string, string>): string {
    const host = request.headers['host'];
    const base = options.publicUrl ?? (host && HOST.test(host) ? `https://${host}` : 'https://localhost');
    const search = new URLSearchParams(query).toString();
    return `${base}${path}${search ? `?${search}` : ''}`;
  }
}

function send(res: HttpResponse, request: ApiRequest, reply: Reply, closeConnection: boolean): void {
  if (request.aborted) return;
  const payload = reply.raw?.body ?? (reply.body === undefined || reply.status === 204 ? undefined : JSON.stringify(reply.body));
  res.cork(() => {
    res.writeStatus(`${reply.status} ${STATUS_TEXT[reply.status] ?? ''}`.trim());
    res.writeHeader('TrackingID', request.trackingId);
    if (payload !== undefined) res.writeHeader('Content-Type', reply.raw?.contentType ?? 'application/json;charset=UTF-8');
    for (const [key, value] of Object.entries(reply.headers ?? {})) res.writeHeader(key, value);
    if (closeConnection) res.writeHeader('Connection', 'close');
    res.end(payload, closeConnection);
  });
}
