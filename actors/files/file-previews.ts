// The previews of the files on messages, as the files actor runs them: a file bound to its
// committed message gets one durable job on the work queue; any actors node takes it, renders
// the file in its sandbox (preview/preview-job.ts), records the outcome on the file record,
// and has the rooms actor show it on the message (one `message.updated`). A job is delivered
// at least once: a node killed mid-job has its job redone by another, with the same result.
//
// Against the deletion of the file (file-cleanup.ts), which may run at the same time on another
// node, the FileStore decides who releases the preview's blob (storage/file-store.ts): a
// preview is recorded only on a record that still exists, or its blob is released here at
// once; the deletion removes the record only after releasing the preview blob recorded on it.
import type { ServiceBroker } from 'moleculer';
import type { BlobStore } from '../../storage/blob-store.ts';
import { previewBlobOf, type FilePreview, type FileRecord, type FileStore } from '../../storage/file-store.ts';
import type { WorkQueue } from '../../storage/interfaces.ts';
import type { MessageFilePreview } from '../../storage/records.ts';
import { ownerOf } from '../../routing/owner-strategy.ts';
import { makePreview, previewOwner } from './preview/preview-job.ts';
import type { RenderLimits } from './preview/render-types.ts';
import type { RenderSandbox } from './preview/sandbox.ts';

export interface PreviewJob {
  fileId: string;
}

/**
 * Test-only (cluster/fault-injection.ts): holds each job after its preview blob is stored and
 * before it is recorded — the worst moment for its node to be killed (a blob no record names).
 */
export interface PreviewFaults {
  beforeRecord?: (fileId: string) => Promise<void>;
}

export interface PreviewQueueSettings {
  /** The queue's name (namespaced: clusters sharing a broker never take each other's jobs). */
  queueName: string;
  /** Jobs rendered at once on this node (the sandbox's children). */
  concurrency: number;
}

/**
 * A job fails (and is retried) only when an engine does: a file that cannot be previewed is
 * an outcome (`none`), not a failure. Five tries over about half a minute, then a dead letter.
 */
const RETRIES = { maxAttempts: 5, backoffMs: 2000 };

interface Logger {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const RECORD_PREVIEW = 'rooms.recordFilePreview';

export class FilePreviews {
  private readonly deps: { store: FileStore; blobs: BlobStore; sandbox: RenderSandbox; limits: RenderLimits; queue: WorkQueue; settings: PreviewQueueSettings; faults: PreviewFaults };
  private stopConsumer: (() => Promise<void>) | undefined;

  constructor(deps: FilePreviews['deps']) {
    this.deps = deps;
  }

  /** The queue's name, for the operators' console (actors/queue-operator-actions.ts). */
  get queueName(): string {
    return this.deps.settings.queueName;
  }

  /** Queues the preview of a file just bound to its message; durable once this resolves. */
  async queue(file: FileRecord): Promise<void> {
    await this.deps.queue.publish(this.deps.settings.queueName, { fileId: file.id } satisfies PreviewJob);
  }

  async start(broker: ServiceBroker, log: Logger): Promise<void> {
    const { queueName, concurrency } = this.deps.settings;
    this.stopConsumer = await this.deps.queue.consume(queueName, (job) => this.handle(broker, job as PreviewJob, log), { concurrency, ...RETRIES });
  }

  async stop(): Promise<void> {
    await this.stopConsumer?.();
    this.stopConsumer = undefined;
  }

  /** One job: render unless an outcome is recorded already (a redone job), then have the message show it. */
  private async handle(broker: ServiceBroker, job: PreviewJob, log: Logger): Promise<void> {
    const { store, blobs, sandbox, limits, faults } = this.deps;
    if (typeof job?.fileId !== 'string') throw new Error('a preview job without a file id');
    const file = await store.get(job.fileId);
    // Gone with its message, or never bound to one: nothing to show it on.
    if (!file?.messageId || !file.roomId) return;
    let preview = file.preview;
    if (!preview) {
      preview = await makePreview({ blobs, sandbox, limits }, file.id, file.blobKey);
      await faults.beforeRecord?.(file.id);
      if (!(await store.setPreview(file.id, preview))) {
        // The message was deleted meanwhile and its deletion released what was recorded: this blob is ours to release.
        const blob = previewBlobOf(preview);
        if (blob) await blobs.release(previewOwner(file.id), blob);
        return;
      }
      if (preview.state === 'none') log.warn({ fileId: file.id, reason: preview.reason }, 'a file got no preview');
    }
    const { roomId, messageId } = file;
    await broker.call(RECORD_PREVIEW, { roomId, messageId, preview: shownOnMessage(file.id, preview) }, { nodeID: ownerOf(broker, RECORD_PREVIEW, { roomId }) });
  }
}

/** What the message shows of a preview: everything but the blob's key (the image is served at the file's `/preview`). */
export function shownOnMessage(contentId: string, preview: FilePreview): MessageFilePreview {
  if (preview.state === 'none') return { contentId, state: 'none', reason: preview.reason };
  if (preview.kind === 'text') return { contentId, state: 'ready', kind: 'text', snippet: preview.snippet, truncated: preview.truncated };
  return { contentId, state: 'ready', kind: preview.kind, mimeType: preview.mime, width: preview.width, height: preview.height, ...(preview.pages !== undefined ? { pages: preview.pages } : {}) };
}
