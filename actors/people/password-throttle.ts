// Throttling of password attempts (the password grant), the identity-provider pattern:
// counted per account (the normalized username, whether or not such an account exists, so
// the throttle reveals nothing) and per client address (across accounts: password spraying).
// Past the free failures a key is locked, and each further failure doubles the lock, up to
// a bound: an attacker can hold a victim's password sign-in locked only by spending one
// guess per lock, and never lock it for longer than the bound; signed-in sessions and their
// refresh tokens go on working, and an administrator's password reset lifts the lock.
import { isIPv6 } from 'node:net';
import type { PasswordAttemptLimits } from '../../contracts/config.ts';
import { oauthError } from '../../contracts/errors.ts';
import type { AttemptPolicy, AttemptThrottle } from '../../storage/interfaces.ts';

export interface PasswordThrottle {
  /** Counts an attempt for the username and the address, or throws 429 with the seconds to wait. */
  begin(username: string, address: string | undefined): Promise<{ succeeded(): Promise<void> }>;
  /** Lifts the account's lock and forgets its failures (a password reset). */
  forgive(usernames: string[]): Promise<void>;
}

/** An email as the people store matches it. */
export const normalizedUsername = (username: string) => username.trim().toLowerCase();

/**
 * The address an attempt is counted under: IPv4 as is (also when mapped into IPv6, as a
 * dual-stack listener shows it), IPv6 by its /64 (one subscriber usually holds a whole /64,
 * so single addresses would cost an attacker nothing).
 */
export function addressKey(address: string): string {
  if (!isIPv6(address)) return address;
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  const text = dotted ? `${dotted[1]}${ipv4Groups(dotted[2])}` : address;
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = (tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]).map((g) => parseInt(g, 16));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join('.');
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

function ipv4Groups(dotted: string): string {
  const [a, b, c, d] = dotted.split('.').map(Number);
  return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

export function passwordThrottle(throttle: AttemptThrottle, limits: PasswordAttemptLimits): PasswordThrottle {
  const policy = (freeAttempts: number): AttemptPolicy => ({
    freeAttempts, lockMs: limits.lockSeconds * 1000, maxLockMs: limits.maxLockSeconds * 1000, forgetMs: limits.forgetSeconds * 1000,
  });
  const accountPolicy = () => policy(limits.accountFailures);
  const addressPolicy = () => policy(limits.addressFailures);
  const accountKey = (username: string) => `password:account:${normalizedUsername(username)}`;
  const tooMany = (retryAfterSeconds: number) =>
    oauthError(429, 'temporarily_unavailable', 'Too many failed sign-in attempts; retry after the number of seconds in Retry-After.', retryAfterSeconds);

  return {
    async begin(username, address) {
      const account = accountKey(username);
      const from = address ? `password:address:${addressKey(address)}` : undefined;
      if (from) {
        const byAddress = await throttle.attempt(from, addressPolicy());
        if (!byAddress.allowed) throw tooMany(byAddress.retryAfterSeconds);
      }
      const byAccount = await throttle.attempt(account, accountPolicy());
      if (!byAccount.allowed) {
        // No password was tried: the address gets its attempt back.
        if (from) await throttle.refund(from, addressPolicy());
        throw tooMany(byAccount.retryAfterSeconds);
      }
      return {
        // The account starts afresh; the address only gets this attempt back, so that signing
        // in to one's own account does not wipe the failures sprayed over others.
        async succeeded() {
          await throttle.clear(account);
          if (from) await throttle.refund(from, addressPolicy());
        },
      };
    },

    async forgive(usernames) {
      for (const username of usernames) await throttle.clear(accountKey(username));
    },
  };
}
