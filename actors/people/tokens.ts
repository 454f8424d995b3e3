// Access and refresh tokens are 256-bit random strings; only their sha256 is stored, so a
// copy of the database does not hand out sessions.
import { createHash, randomBytes } from 'node:crypto';

export const ACCESS_TOKEN_SECONDS = 14 * 24 * 3600;
export const REFRESH_TOKEN_SECONDS = 90 * 24 * 3600;
/** The first administrator's token in admin.json: long enough to sign in and set things up. */
export const FIRST_ADMIN_TOKEN_SECONDS = 24 * 3600;

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
