// Reading a request from uWebSockets.js. Everything uWS hands out on the request object is
// only valid during the synchronous handler, so headers and parameters are copied there;
// the body is collected with a hard size limit (body-parser.ts parses it).
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { CallClient } from '../../contracts/caller.ts';
import { HttpError } from './http-errors.ts';

export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  params: Record<string, string>;
  trackingId: string;
  remoteAddress: string;
  /**
   * Why the request's framing is ambiguous (a second Content-Length or Transfer-Encoding
   * header), if it is: where its body ends is then a guess, and the request must be refused.
   */
  framingProblem: string | undefined;
  /** Set once the client went away; a response must not be written then. */
  aborted: boolean;
}

const TRACKING_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export function readRequest(res: HttpResponse, req: HttpRequest, paramNames: string[], newTrackingId: () => string): ApiRequest {
  const headers: Record<string, string> = {};
  let framingProblem: string | undefined;
  req.forEach((key, value) => {
    // uWS passes repeated headers on, and frames the body by the first Content-Length.
    if ((key === 'content-length' || key === 'transfer-encoding') && headers[key] !== undefined) framingProblem = `The request has more than one ${key} header.`;
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
    framingProblem,
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

/** uWS writes an IPv4 peer as an IPv4-mapped IPv6 address in full (0000:…:ffff:7f00:0001). */
const MAPPED_V4 = /^(?:0{1,4}:){5}ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i;

/** The client's address and user agent, as actions record them (audit events). */
export function clientOf(request: ApiRequest): CallClient {
  const mapped = MAPPED_V4.exec(request.remoteAddress);
  const address = mapped
    ? [parseInt(mapped[1], 16) >> 8, parseInt(mapped[1], 16) & 255, parseInt(mapped[2], 16) >> 8, parseInt(mapped[2], 16) & 255].join('.')
    : request.remoteAddress;
  const userAgent = request.headers['user-agent']?.slice(0, 512);
  return userAgent ? { address, userAgent } : { address };
}
