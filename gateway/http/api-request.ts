// Reading a request from uWebSockets.js. Everything uWS hands out on the request object is
// only valid during the synchronous handler, so headers and parameters are copied there;
// the body is collected with a hard size limit and parsed as JSON or form-urlencoded.
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { HttpError } from './http-errors.ts';

export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  params: Record<string, string>;
  trackingId: string;
  remoteAddress: string;
  /** Set once the client went away; a response must not be written then. */
  aborted: boolean;
}

const TRACKING_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export function readRequest(res: HttpResponse, req: HttpRequest, paramNames: string[], newTrackingId: () => string): ApiRequest {
  const headers: Record<string, string> = {};
  req.forEach((key, value) => {
    headers[key] = value;
  });
  const params: Record<string, string> = {};
  paramNames.forEach((name, i) => {
    params[name] = safeDecode(req.getParameter(i) ?? '');
  });
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(req.getQuery() ?? '')) if (!(key in query)) query[key] = value;
  const offered = headers['trackingid'];
  return {
    method: req.getMethod(),
    path: req.getUrl(),
    query,
    headers,
    params,
    trackingId: offered && TRACKING_ID.test(offered) ? offered : newTrackingId(),
    remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
    aborted: false,
  };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Collects the body; must be called synchronously inside the uWS handler. */
export function readBody(res: HttpResponse, request: ApiRequest, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  return new Promise((resolve, reject) => {
    if (declared > maxBytes) {
      // Still drain what arrives, so the response can be written on the same connection.
      res.onData(() => undefined);
      reject(new HttpError(413, `The request body exceeds ${maxBytes} bytes.`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    res.onData((chunk, isLast) => {
      if (failed) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        failed = true;
        reject(new HttpError(413, `The request body exceeds ${maxBytes} bytes.`));
        return;
      }
      // uWS reuses the chunk's memory after this callback returns: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
      if (isLast) resolve(Buffer.concat(chunks));
    });
  });
}

// No Webex resource nests deeply; bounding depth keeps validators and renderers off deep recursion.
const MAX_JSON_DEPTH = 16;

function depthExceeds(root: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return false;
}

/** A JSON object or a form: the two body encodings Webex clients send. */
export function parseBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  if (raw.length === 0) return {};
  const type = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) {
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'The request body is not valid JSON.');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'The request body must be a JSON object.');
    if (depthExceeds(value, MAX_JSON_DEPTH)) throw new HttpError(400, `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`);
    return value as Record<string, unknown>;
  }
  if (type === 'application/x-www-form-urlencoded') {
    const form: Record<string, unknown> = {};
    for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) {
      // Repeated keys are lists, as in `files=…&files=…`.
      const existing = form[key];
      form[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    return form;
  }
  throw new HttpError(415, `Content type ${type} is not supported; send application/json or application/x-www-form-urlencoded.`);
}
