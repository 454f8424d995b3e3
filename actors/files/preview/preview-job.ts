// One preview of one file: its bytes read from the BlobStore (up to the sandbox's input
// limit), rendered in the sandbox, the image stored as a blob owned by `preview:<fileId>`.
// Safe to run twice (a job redone after its node died): rendering is deterministic and the
// BlobStore content-addressed, so a second run stores the same blob under the same owner,
// and nothing is left over that the file's deletion would not release.
import { Readable } from 'node:stream';
import type { BlobStore } from '../../../storage/blob-store.ts';
import { readAll } from '../read-all.ts';
import { RenderFailure, type RenderFailureReason, type RenderLimits } from './render-types.ts';
import type { RenderSandbox } from './sandbox.ts';

export type PreviewOutcome =
  | { state: 'ready'; kind: 'image' | 'pdf'; sourceType: string; blobKey: string; mime: string; width: number; height: number; pages?: number }
  | { state: 'ready'; kind: 'text'; sourceType: string; snippet: string; truncated: boolean }
  | { state: 'none'; reason: RenderFailureReason | 'missing' };

/** The owner of a file's preview blob: the file's deletion releases it. */
export const previewOwner = (fileId: string) => `preview:${fileId}`;

export async function makePreview(deps: { blobs: BlobStore; sandbox: RenderSandbox; limits: RenderLimits }, fileId: string, blobKey: string): Promise<PreviewOutcome> {
  const { blobs, sandbox, limits } = deps;
  const info = await blobs.stat(blobKey);
  if (!info) return { state: 'none', reason: 'missing' };
  if (info.size > limits.maxInputBytes) return { state: 'none', reason: 'too-large' };
  const stream = await blobs.read(blobKey);
  if (!stream) return { state: 'none', reason: 'missing' };
  const bytes = await readAll(stream, limits.maxInputBytes);
  let preview;
  try {
    preview = await sandbox.preview(bytes);
  } catch (err) {
    if (err instanceof RenderFailure) return { state: 'none', reason: err.reason };
    throw err;
  }
  if (preview.kind === 'text') return { state: 'ready', kind: 'text', sourceType: preview.sourceType, snippet: preview.snippet, truncated: preview.truncated };
  const stored = await blobs.put(previewOwner(fileId), Readable.from([preview.data]));
  return { state: 'ready', kind: preview.kind, sourceType: preview.sourceType, blobKey: stored.key, mime: preview.mime, width: preview.width, height: preview.height, pages: preview.pages };
}
