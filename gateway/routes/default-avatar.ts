// The picture of a person who has none: their initials on a colour derived from their id (as
// Slack and Google do), as a small SVG. Everything it shows is in its URL, so the URL changes
// when the name does and can be cached for good, and serving it needs no lookup.
import { createHash } from 'node:crypto';

const FILE = /^([\p{L}\p{N}]{1,2})\.([0-9a-f]{6})\.svg$/u;

/** Up to two initials: of the first and last name, else of the first two words of the display name, else of the email. */
export function initialsOf(person: { firstName?: unknown; lastName?: unknown; displayName?: unknown; emails?: unknown }): string {
  const first = (value: unknown) => (typeof value === 'string' ? ([...value.trim()].find((ch) => /[\p{L}\p{N}]/u.test(ch)) ?? '') : '');
  const fromNames = first(person.firstName) + first(person.lastName);
  if (fromNames) return fromNames.toLocaleUpperCase();
  const words = typeof person.displayName === 'string' ? person.displayName.trim().split(/\s+/) : [];
  const fromDisplay = words.slice(0, 2).map(first).join('');
  if (fromDisplay) return [...fromDisplay.toLocaleUpperCase()].slice(0, 2).join('');
  const email = Array.isArray(person.emails) ? person.emails[0] : undefined;
  return (first(email) || '?').toLocaleUpperCase();
}

/** A colour of the id's hash: any hue, at a saturation and lightness where white text reads well. */
export function colourOf(id: string): string {
  const hue = createHash('sha256').update(id).digest().readUInt16BE(0) % 360;
  const [s, l] = [0.55, 0.42];
  const k = (n: number) => (n + hue / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number) => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1))));
  return [channel(0), channel(8), channel(4)].map((c) => c.toString(16).padStart(2, '0')).join('');
}

export function defaultAvatarPath(person: { id: string; firstName?: unknown; lastName?: unknown; displayName?: unknown; emails?: unknown }): string {
  const initials = initialsOf(person).replace(/[^\p{L}\p{N}]/gu, '') || 'X';
  return `/v1/avatars/default/${encodeURIComponent(`${initials}.${colourOf(person.id)}.svg`)}`;
}

/** The SVG a default avatar's file name describes; undefined for a name that is not one. */
export function defaultAvatarSvg(file: string): string | undefined {
  const match = FILE.exec(file);
  if (!match) return undefined;
  const [, initials, colour] = match;
  // Initials are letters and digits only (FILE), so nothing in them needs escaping.
  return `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="640" viewBox="0 0 640 640"><rect width="640" height="640" fill="#${colour}"/><text x="320" y="320" dy=".35em" text-anchor="middle" font-family="Helvetica, Arial, sans-serif" font-size="${[...initials].length > 1 ? 256 : 320}" fill="#ffffff">${initials}</text></svg>`;
}
