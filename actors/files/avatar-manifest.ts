// What an avatar is in the BlobStore: a manifest naming the blob of each rendition, and the
// path of the avatar that the person record carries (the manifest's hash in it).

export interface AvatarManifest {
  /** The owner of every blob of this avatar: `avatar:<personId>:<upload id>`. */
  owner: string;
  personId: string;
  /** `<size>.<webp|png>` → blob key. */
  renditions: Record<string, string>;
}

/** The rendition the person's `avatar` URL names; the others are beside it. */
const DEFAULT_RENDITION = '640.png';
const PATH = /^\/v1\/avatars\/([0-9a-f]{64})\/[0-9]+\.(?:webp|png)$/;

export const avatarPath = (version: string) => `/v1/avatars/${version}/${DEFAULT_RENDITION}`;

/** The version in an avatar path this actor made; undefined for anything else (a URL an administrator set). */
export function parseAvatarPath(avatar: string): string | undefined {
  return PATH.exec(avatar)?.[1];
}
