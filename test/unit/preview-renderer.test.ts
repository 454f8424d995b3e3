// The preview sandbox against real files made here (sharp for images, PDFs and bombs by
// hand): each preview's dimensions and pixels checked, and hostile files failing with a
// reason, within the limits, without taking the sandbox down.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { RenderSandbox } from '../../actors/files/preview/sandbox.ts';
import { AVATAR_SIZES, DEFAULT_RENDER_LIMITS, RenderFailure, type PreviewImage, type PreviewText } from '../../actors/files/preview/render-types.ts';
import { pdfDocument, pngClaiming } from '../harness/documents.ts';
import { until } from '../harness/wait.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { DiskBlobStore } from '../../storage/embedded/blob-store.ts';
import { makePreview, previewOwner } from '../../actors/files/preview/preview-job.ts';

let sandbox: RenderSandbox;

before(() => {
  sandbox = new RenderSandbox(DEFAULT_RENDER_LIMITS, 1);
});

after(() => sandbox.close());

const solid = (width: number, height: number, background = { r: 20, g: 120, b: 220 }) => sharp({ create: { width, height, channels: 3, background } });

async function failsWith(job: Promise<unknown>, reason: string): Promise<RenderFailure> {
  const err = await job.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof RenderFailure, `expected a RenderFailure, got ${String(err)}`);
  assert.equal(err.reason, reason, err.message);
  return err;
}

test('a PNG becomes a WebP thumbnail fitted into 640 px, aspect kept', async () => {
  const preview = (await sandbox.preview(await solid(1200, 800).png().toBuffer())) as PreviewImage;
  assert.equal(preview.kind, 'image');
  assert.equal(preview.sourceType, 'image/png');
  const meta = await sharp(preview.data).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 640, 427]);
  assert.deepEqual([preview.width, preview.height], [640, 427]);
});

test('a small JPEG is not enlarged; EXIF orientation is applied', async () => {
  const jpeg = await solid(300, 200).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  const preview = (await sandbox.preview(jpeg)) as PreviewImage;
  assert.equal(preview.sourceType, 'image/jpeg');
  const meta = await sharp(preview.data).metadata();
  assert.deepEqual([meta.width, meta.height], [200, 300]);
});

test('a PDF\'s first page is drawn: a letter page fitted into 640 px, in its colour', async () => {
  const preview = (await sandbox.preview(pdfDocument({ pages: 3, rgb: [1, 0, 0] }))) as PreviewImage;
  assert.equal(preview.kind, 'pdf');
  assert.equal(preview.pages, 3);
  const { data, info } = await sharp(preview.data).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [Math.round((612 * 640) / 792), 640]);
  const centre = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
  assert.deepEqual([...data.subarray(centre, centre + 3)], [255, 0, 0]);
});

test('text gets a snippet of its first 40 lines; a character cut by the end is dropped', async () => {
  const lines = Array.from({ length: 100 }, (_, i) => `línea ${i} — ✓`).join('\r\n');
  const long = (await sandbox.preview(Buffer.from(lines))) as PreviewText;
  assert.equal(long.kind, 'text');
  assert.equal(long.snippet.split('\n').length, 40);
  assert.equal(long.snippet.split('\n')[39], 'línea 39 — ✓');
  assert.equal(long.truncated, true);
  const cut = Buffer.concat([Buffer.from('const x = "héllo";\n'), Buffer.from('é').subarray(0, 1)]);
  const short = (await sandbox.preview(cut)) as PreviewText;
  assert.equal(short.snippet, 'const x = "héllo";\n');
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('naïve ✓ text', 'utf16le')]);
  assert.equal(((await sandbox.preview(utf16)) as PreviewText).snippet, 'naïve ✓ text');
});

test('an avatar is cropped square at every size, as WebP and PNG', async () => {
  const renditions = await sandbox.avatar(await solid(300, 200).jpeg().toBuffer(), AVATAR_SIZES);
  assert.equal(renditions.length, AVATAR_SIZES.length * 2);
  for (const rendition of renditions) {
    const meta = await sharp(rendition.data).metadata();
    assert.equal(`image/${meta.format}`, rendition.mime);
    assert.deepEqual([meta.width, meta.height], [rendition.size, rendition.size]);
  }
  await failsWith(sandbox.avatar(pdfDocument(), AVATAR_SIZES), 'unsupported');
});

test('a decompression bomb (a small PNG declaring 100,000 × 100,000 pixels) is refused from its header', async () => {
  const bomb = pngClaiming(100_000, 100_000);
  assert.ok(bomb.length < 10_000);
  const started = Date.now();
  await failsWith(sandbox.preview(bomb), 'too-large');
  await failsWith(sandbox.avatar(bomb, AVATAR_SIZES), 'too-large');
  assert.ok(Date.now() - started < DEFAULT_RENDER_LIMITS.timeoutMs);
});

test('a PDF of thousands of pages is refused by its page count; an oversized page by its size', async () => {
  await failsWith(sandbox.preview(pdfDocument({ pages: 3000 })), 'too-large');
  await failsWith(sandbox.preview(pdfDocument({ width: 100_000, height: 100_000 })), 'too-large');
});

test('corrupt files and files that start like one type and are another fail as unreadable', async () => {
  const png = await solid(64, 64).png().toBuffer();
  await failsWith(sandbox.preview(png.subarray(0, png.length / 2)), 'unreadable');
  // JPEG's signature followed by a PNG: sniffed as JPEG, and no JPEG decoder accepts it.
  await failsWith(sandbox.preview(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), png])), 'unreadable');
  await failsWith(sandbox.preview(Buffer.from('%PDF-1.7\nnot a PDF at all, just words\n')), 'unreadable');
});

test('binary data and office documents have no preview', async () => {
  const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
  await failsWith(sandbox.preview(binary), 'unsupported');
  // The start of a .docx: a ZIP whose first entry is [Content_Types].xml.
  const name = Buffer.from('[Content_Types].xml');
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(name.length, 26);
  const docx = Buffer.concat([header, name, Buffer.from('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml"/></Types>'), Buffer.alloc(64)]);
  const err = await failsWith(sandbox.preview(docx), 'unsupported');
  assert.match(err.message, /officedocument|zip/);
});

test('a job past its time or memory limit kills its child; the next job gets a fresh one', async () => {
  const image = await solid(2000, 2000).png().toBuffer();
  const slow = new RenderSandbox({ ...DEFAULT_RENDER_LIMITS, timeoutMs: 1 }, 1);
  const greedy = new RenderSandbox({ ...DEFAULT_RENDER_LIMITS, maxRssBytes: 1 }, 1);
  try {
    await failsWith(slow.preview(image), 'timeout');
    await failsWith(greedy.preview(image), 'memory');
  } finally {
    slow.close();
    greedy.close();
  }
  // The shared sandbox is unaffected, and serves on after its own failures above.
  assert.equal(((await sandbox.preview(image)) as PreviewImage).width, 640);
});

test('a child killed from outside while idle is replaced before the next job', async () => {
  const own = new RenderSandbox(DEFAULT_RENDER_LIMITS, 1);
  try {
    const png = await solid(100, 100).png().toBuffer();
    await own.preview(png);
    const children = (own as unknown as { children: Set<{ process: { pid: number; exitCode: number | null; signalCode: string | null } }> }).children;
    const [child] = children;
    process.kill(child.process.pid, 'SIGKILL');
    await until(() => child.process.signalCode !== null, 5_000, 'the child to die');
    assert.equal(((await own.preview(png)) as PreviewImage).width, 100);
  } finally {
    own.close();
  }
});

test('a preview job stores the image under the file\'s preview owner; run twice, it stores it once', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preview-job-'));
  const blobs = DiskBlobStore.open(path.join(dir, 'blobs'), path.join(dir, 'blobs.db'), false);
  try {
    const deps = { blobs, sandbox, limits: DEFAULT_RENDER_LIMITS };
    const file = await blobs.put('file:f1', Readable.from([await solid(1000, 500).png().toBuffer()]));
    const first = await makePreview(deps, 'f1', file.key);
    const again = await makePreview(deps, 'f1', file.key);
    assert.equal(first.state, 'ready');
    assert.deepEqual(again, first);
    if (first.state !== 'ready' || first.kind === 'text') throw new Error('expected an image preview');
    assert.deepEqual([first.width, first.height], [640, 320]);
    assert.deepEqual(await blobs.owners(first.blobKey), [previewOwner('f1')]);
    // What is not previewed stores nothing; a file over the input limit is not even read.
    const binary = await blobs.put('file:f2', Readable.from([Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))]));
    assert.deepEqual(await makePreview(deps, 'f2', binary.key), { state: 'none', reason: 'unsupported' });
    assert.deepEqual(await makePreview({ ...deps, limits: { ...DEFAULT_RENDER_LIMITS, maxInputBytes: 10 } }, 'f1', file.key), { state: 'none', reason: 'too-large' });
    assert.deepEqual(await makePreview(deps, 'f3', `sha256-${'0'.repeat(64)}`), { state: 'none', reason: 'missing' });
  } finally {
    await blobs.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
