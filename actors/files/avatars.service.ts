// The `avatars` actor: people's pictures. An upload is rendered in the preview sandbox
// (cropped square, 40/80/160/640 px, WebP and PNG), each rendition stored in the BlobStore,
// and a manifest of them stored beside; the manifest's content hash is the avatar's version,
// so the URL changes whenever the picture does and what it serves never changes (cached for a
// year). The people actor keeps the URL on the person (`people.setAvatar`); this actor owns
// the blobs, under owners `avatar:<personId>:<upload>` that no other actor uses, and releases
// an avatar's blobs when it is replaced or removed.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Context, ServiceSchema } from 'moleculer';
import { callerOf, isAdmin } from '../../contracts/caller.ts';
import { ApiError, badRequest, forbidden, notFound } from '../../contracts/errors.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { PersonRecord } from '../../storage/records.ts';
import { KeyedQueue } from '../keyed-queue.ts';
import * as p from '../params.ts';
import { RenderFailure, AVATAR_SIZES } from './preview/render-types.ts';
import type { RenderSandbox } from './preview/sandbox.ts';
import { avatarPath, parseAvatarPath, type AvatarManifest } from './avatar-manifest.ts';
import { readAll } from './read-all.ts';

export interface AvatarsServiceOptions {
  blobs: BlobStore;
  sandbox: RenderSandbox;
  /** Bytes of an uploaded image; more is a 413. */
  maxBytes: number;
}

const RENDITION = { type: 'string', pattern: /^(40|80|160|640)\.(webp|png)$/ } as const;
const VERSION = { type: 'string', pattern: /^[0-9a-f]{64}$/ } as const;
const MANIFEST_MAX_BYTES = 16 * 1024;

export function createAvatarsService(options: AvatarsServiceOptions): ServiceSchema {
  const { blobs, sandbox, maxBytes } = options;
  // One change of a person's avatar at a time on this node: the release of the one replaced
  // must not race the next upload's own replacement.
  const perPerson = new KeyedQueue();

  /** The person whose avatar the caller may change: themselves, or anyone of their org for an administrator. */
  async function target(ctx: Context<{ personId: string }>): Promise<PersonRecord> {
    const caller = callerOf(ctx);
    const personId = ctx.params.personId === 'me' ? caller.id : ctx.params.personId;
    if (personId !== caller.id && !isAdmin(caller)) throw forbidden('Only an administrator may change the avatar of someone else.');
    const person = await ctx.call<PersonRecord | null, object>('people.resolve', { personId });
    if (!person || person.orgId !== caller.orgId) throw notFound('Person not found.');
    return person;
  }

  /** The manifest of a version, only if this actor wrote it (its blob is owned by an avatar owner). */
  async function manifestOf(version: string): Promise<AvatarManifest | undefined> {
    const key = `sha256-${version}`;
    const owners = await blobs.owners(key);
    const stream = await blobs.read(key);
    if (!stream) return undefined;
    const manifest = JSON.parse((await readAll(stream, MANIFEST_MAX_BYTES)).toString('utf8')) as AvatarManifest;
    // A file anybody uploaded can have the shape of a manifest; only the owner proves it is one.
    return manifest.owner?.startsWith('avatar:') && owners.includes(manifest.owner) ? manifest : undefined;
  }

  async function release(avatar: string | null | undefined): Promise<void> {
    const version = avatar ? parseAvatarPath(avatar) : undefined;
    const manifest = version ? await manifestOf(version) : undefined;
    if (!manifest) return;
    for (const key of Object.values(manifest.renditions)) await blobs.release(manifest.owner, key);
    await blobs.release(manifest.owner, `sha256-${version}`);
  }

  /** The renditions and their manifest stored; answers the version (the manifest's hash). */
  async function store(person: PersonRecord, renditions: { size: number; mime: string; data: Uint8Array }[]): Promise<string> {
    const owner = `avatar:${person.id}:${randomUUID()}`;
    const manifest: AvatarManifest = { owner, personId: person.id, renditions: {} };
    try {
      for (const rendition of renditions) {
        const name = `${rendition.size}.${rendition.mime === 'image/webp' ? 'webp' : 'png'}`;
        manifest.renditions[name] = (await blobs.put(owner, Readable.from([rendition.data]))).key;
      }
      const { key } = await blobs.put(owner, Readable.from([Buffer.from(JSON.stringify(manifest))]));
      return key.slice('sha256-'.length);
    } catch (err) {
      for (const key of Object.values(manifest.renditions)) await blobs.release(owner, key).catch(() => undefined);
      throw err;
    }
  }

  return {
    name: 'avatars',

    events: {
      /** A deleted person's picture goes with them (best effort: an event missed leaves its blobs). */
      'people.removed': {
        async handler(ctx: Context<{ personId: string; avatar: string | null }>) {
          await perPerson.run(ctx.params.personId, () => release(ctx.params.avatar)).catch((err: unknown) => this.logger.warn({ err }, 'the avatar of a deleted person could not be released'));
        },
      },
    },

    actions: {
      /** The caller's (or, for an administrator, anyone's) avatar from an image in `ctx.stream`. */
      set: {
        visibility: 'published',
        params: { personId: p.id },
        async handler(ctx: Context<{ personId: string }>) {
          const person = await target(ctx);
          if (!ctx.stream) throw badRequest('No image was sent.');
          const bytes = await readAll(ctx.stream as Readable, maxBytes).catch((err: unknown) => {
            throw err instanceof RangeError ? new ApiError(413, `The image exceeds ${maxBytes} bytes.`, 'PAYLOAD_TOO_LARGE') : err;
          });
          if (bytes.length === 0) throw badRequest('No image was sent.');
          let renditions;
          try {
            renditions = await sandbox.avatar(bytes, AVATAR_SIZES);
          } catch (err) {
            if (err instanceof RenderFailure) throw badRequest(`The image cannot be used as an avatar: ${err.message}`);
            throw err;
          }
          return perPerson.run(person.id, async () => {
            const version = await store(person, renditions);
            let answer: { person: Record<string, unknown>; previous: string | null };
            try {
              answer = await ctx.call('people.setAvatar', { personId: person.id, avatar: avatarPath(version) });
            } catch (err) {
              await release(avatarPath(version)).catch(() => undefined);
              throw err;
            }
            if (answer.previous !== avatarPath(version)) await release(answer.previous);
            return answer.person;
          });
        },
      },

      /** Back to the generated default. */
      remove: {
        visibility: 'published',
        params: { personId: p.id },
        async handler(ctx: Context<{ personId: string }>) {
          const person = await target(ctx);
          return perPerson.run(person.id, async () => {
            const answer = await ctx.call<{ person: Record<string, unknown>; previous: string | null }, object>('people.setAvatar', { personId: person.id });
            await release(answer.previous);
            return null;
          });
        },
      },

      /**
       * One rendition's bytes, for anyone holding the URL (as Webex's avatar URLs, and so that
       * an <img> can show it): the version is a hash of a manifest naming a random upload id.
       */
      rendition: {
        visibility: 'published',
        params: { version: VERSION, rendition: RENDITION },
        async handler(ctx: Context<{ version: string; rendition: string }>) {
          const manifest = await manifestOf(ctx.params.version);
          const key = manifest?.renditions[ctx.params.rendition];
          if (!manifest || !key || !(await blobs.owners(key)).includes(manifest.owner)) throw notFound('Avatar not found.');
          const stream = await blobs.read(key);
          if (!stream) throw notFound('Avatar not found.');
          return stream;
        },
      },
    },
  };
}
