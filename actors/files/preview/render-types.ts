// What the preview sandbox is asked and what it answers: the vocabulary shared by the pool
// (sandbox.ts) in the actor's process and the renderer (render-worker.ts) in the child.

/** The bounds every render runs within; a render that would pass one fails instead. */
export interface RenderLimits {
  /** Wall-clock time of one job in the child; past it the child is killed. */
  timeoutMs: number;
  /** Resident memory of the child (JS heap, libvips, the PDF renderer's WASM memory). */
  maxRssBytes: number;
  /** V8 heap of the child (`--max-old-space-size`). */
  maxHeapMb: number;
  /** Pixels of an input image, read from its header before anything is decoded. */
  maxInputPixels: number;
  /** A PDF with more pages than this is not previewed. */
  maxPdfPages: number;
  /** Longer side of a thumbnail or a rendered page, in pixels. */
  thumbnailSide: number;
  /** Bytes of a text file read for its snippet. */
  maxTextBytes: number;
  /** A larger file is not previewed (it is never read into memory). */
  maxInputBytes: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = {
  timeoutMs: 15_000,
  maxRssBytes: 768 * 1024 * 1024,
  maxHeapMb: 192,
  maxInputPixels: 50_000_000,
  maxPdfPages: 2_000,
  thumbnailSide: 640,
  maxTextBytes: 64 * 1024,
  maxInputBytes: 64 * 1024 * 1024,
};

/** The square sizes of an avatar, each as WebP and PNG. */
export const AVATAR_SIZES = [40, 80, 160, 640] as const;

export type RenderJob =
  | { op: 'preview'; bytes: Uint8Array }
  | { op: 'avatar'; bytes: Uint8Array; sizes: readonly number[] };

export type PreviewImage = {
  kind: 'image' | 'pdf';
  /** The type of the file, sniffed from its bytes. */
  sourceType: string;
  mime: 'image/webp' | 'image/png';
  width: number;
  height: number;
  data: Uint8Array;
  /** PDF only: pages of the document. */
  pages?: number;
};

export type PreviewText = { kind: 'text'; sourceType: string; snippet: string; truncated: boolean };

export type Preview = PreviewImage | PreviewText;

export interface AvatarRendition {
  size: number;
  mime: 'image/webp' | 'image/png';
  data: Uint8Array;
}

/**
 * Why a file has no preview: its type is not previewed, it passed a limit (pixels, pages,
 * time, memory), it could not be read (corrupt, or not what it starts like), or the child
 * died under it.
 */
export type RenderFailureReason = 'unsupported' | 'too-large' | 'unreadable' | 'timeout' | 'memory' | 'crashed';

export class RenderFailure extends Error {
  readonly reason: RenderFailureReason;

  constructor(reason: RenderFailureReason, message: string) {
    super(message);
    this.reason = reason;
    this.name = 'RenderFailure';
  }
}

/** Child → parent, over the IPC channel. */
export type WorkerReply =
  | { id: number; ok: true; result: Preview | AvatarRendition[] }
  | { id: number; ok: false; reason: RenderFailureReason; message: string };
