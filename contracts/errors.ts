// The errors actors raise. Each carries the HTTP status Webex would answer with, so the
// gateway maps them in one place; anything else that escapes an action is internal.
import { Errors } from 'moleculer';

export class ApiError extends Errors.MoleculerClientError {
  constructor(status: number, message: string, type: string) {
    super(message, status, type);
  }
}

export const badRequest = (message: string) => new ApiError(400, message, 'BAD_REQUEST');
export const unauthorized = (message = 'The request requires a valid access token set in the Authorization request header.') =>
  new ApiError(401, message, 'UNAUTHORIZED');
export const forbidden = (message: string) => new ApiError(403, message, 'FORBIDDEN');
export const notFound = (message = 'The requested resource could not be found.') => new ApiError(404, message, 'NOT_FOUND');
export const conflict = (message: string) => new ApiError(409, message, 'CONFLICT');
export const locked = (message: string) => new ApiError(423, message, 'LOCKED');

export type OAuthErrorCode = 'invalid_request' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_client' | 'temporarily_unavailable';

/**
 * OAuth2 token endpoint errors keep RFC 6749's `error` codes (section 5.2); a 429 carries
 * the seconds to wait, which the gateway sends as Retry-After.
 */
export function oauthError(status: 400 | 401 | 429, error: OAuthErrorCode, description: string, retryAfterSeconds?: number) {
  const err = new ApiError(status, description, 'OAUTH');
  err.data = retryAfterSeconds === undefined ? { error } : { error, retryAfterSeconds };
  return err;
}
