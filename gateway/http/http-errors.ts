// The one place where errors become HTTP: Webex's error shape, a status Webex would use,
// and never a stack trace. Anything unexpected is logged with its tracking id and shown
// as a plain 500.
import { Errors } from 'moleculer';
import type { Logger } from 'moleculer';

export interface ErrorReply {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Errors the gateway itself raises (bad JSON, wrong method, too large, rate limited). */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string> | undefined;

  constructor(status: number, message: string, headers?: Record<string, string>) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

export function webexError(status: number, message: string, trackingId: string, descriptions: string[] = [message]): Record<string, unknown> {
  return { message, errors: descriptions.map((description) => ({ description })), trackingId };
}

export function toErrorReply(err: unknown, trackingId: string, logger: Pick<Logger, 'error'>): ErrorReply {
  if (err instanceof HttpError) return { status: err.status, body: webexError(err.status, err.message, trackingId), headers: err.headers };
  if (err instanceof Errors.ValidationError) {
    const problems = Array.isArray(err.data) ? (err.data as { message?: string; field?: string }[]) : [];
    const descriptions = problems.map((p) => p.message ?? `Invalid ${p.field}`);
    return { status: 400, body: webexError(400, 'The request is invalid.', trackingId, descriptions.length ? descriptions : ['The request is invalid.']) };
  }
  if (err instanceof Errors.MoleculerError) {
    if (err.type === 'OAUTH') {
      const data = err.data as { error: string; retryAfterSeconds?: number };
      const headers = data.retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(data.retryAfterSeconds) };
      return { status: err.code, body: { error: data.error, error_description: err.message, ...webexError(err.code, err.message, trackingId) }, headers };
    }
    if (err instanceof Errors.MoleculerClientError && err.code >= 400 && err.code < 500) {
      return { status: err.code, body: webexError(err.code, err.message, trackingId) };
    }
    if (err instanceof Errors.RequestTimeoutError || err instanceof Errors.ServiceNotAvailableError || err instanceof Errors.ServiceNotFoundError || err instanceof Errors.MoleculerRetryableError) {
      // A node or engine is missing or slow: the client may retry; say when.
      logger.error({ err: { type: err.type, message: err.message }, trackingId }, 'service unavailable');
      return { status: 503, body: webexError(503, 'The service is temporarily unavailable. Try again later.', trackingId), headers: { 'Retry-After': '5' } };
    }
  }
  logger.error({ err, trackingId }, 'unexpected error');
  return { status: 500, body: webexError(500, 'Something went wrong on the server.', trackingId) };
}
