// The first page of a PDF as a PNG, with MuPDF compiled to WebAssembly (no native code, no
// process of its own). Bounded three ways: a document of more pages than allowed is refused
// before any page is loaded, the page is drawn at a scale that fits its longer side into the
// thumbnail (so a page declared 200 inches wide costs no more pixels than a letter page), and
// the child's time and memory limits (sandbox.ts) stop whatever is left (a page with a
// million drawing operations).
import * as mupdf from 'mupdf';
import { RenderFailure, type PreviewImage } from './render-types.ts';

/** The largest page (in PDF points, 1/72 in) drawn: 200 in, PDF's own limit of a page's size. */
const MAX_PAGE_POINTS = 14_400;

export function renderPdfFirstPage(bytes: Uint8Array, maxPages: number, side: number): PreviewImage {
  let doc: mupdf.Document | undefined;
  let page: mupdf.Page | undefined;
  let pixmap: mupdf.Pixmap | undefined;
  try {
    try {
      doc = mupdf.Document.openDocument(bytes, 'application/pdf');
    } catch (err) {
      throw unreadable(err);
    }
    if (doc.needsPassword()) throw new RenderFailure('unsupported', 'The PDF is encrypted.');
    let pages: number;
    try {
      pages = doc.countPages();
    } catch (err) {
      throw unreadable(err);
    }
    if (pages < 1) throw new RenderFailure('unreadable', 'The PDF has no page.');
    if (pages > maxPages) throw new RenderFailure('too-large', `The PDF has ${pages} pages, more than ${maxPages}.`);
    try {
      page = doc.loadPage(0);
    } catch (err) {
      throw unreadable(err);
    }
    const [x0, y0, x1, y1] = page.getBounds();
    const width = x1 - x0;
    const height = y1 - y0;
    if (!(width >= 1 && height >= 1)) throw new RenderFailure('unreadable', 'The first page has no area.');
    if (width > MAX_PAGE_POINTS || height > MAX_PAGE_POINTS) throw new RenderFailure('too-large', 'The first page is larger than a PDF page may be.');
    const scale = side / Math.max(width, height);
    try {
      pixmap = page.toPixmap(mupdf.Matrix.scale(scale, scale), mupdf.ColorSpace.DeviceRGB, false, true);
    } catch (err) {
      throw unreadable(err);
    }
    return {
      kind: 'pdf',
      sourceType: 'application/pdf',
      mime: 'image/png',
      width: pixmap.getWidth(),
      height: pixmap.getHeight(),
      data: pixmap.asPNG(),
      pages,
    };
  } finally {
    // WebAssembly memory is not collected with the JS objects: give it back now.
    pixmap?.destroy();
    page?.destroy();
    doc?.destroy();
  }
}

function unreadable(err: unknown): RenderFailure {
  const message = err instanceof Error ? err.message : String(err);
  return new RenderFailure('unreadable', `The PDF cannot be read: ${message.slice(0, 200)}`);
}
