// The highlight of a search hit: a window of the message's text around the words the query
// matched, as safe HTML — every character of the text escaped, and nothing added but
// `<mark>…</mark>` around the matched words. Made here from the message as the caller reads
// it (not by the index), so both indexes highlight alike and no text of the index is shown.
//
// Words are compared as the indexes compare them (storage/search-terms.ts): by their terms,
// case and diacritics folded and stemmed, so "Reports" is marked for a query of "report" —
// exactly the words the index matched.

import { termsOf, wordsOf } from '../../storage/search-terms.ts';

/** How much text a highlight shows at most, around its first mark. */
const WINDOW = 240;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** The highlight of `text` for `query`, or undefined when no word of it matches (a hit on markdown-only text, say). */
export function highlight(text: string, query: string): string | undefined {
  const wanted = new Set(termsOf(query));
  const marks = wordsOf(text).filter((word) => wanted.has(word.term));
  if (marks.length === 0) return undefined;
  // A window that starts a little before the first mark, cut at word boundaries where it can be.
  let from = Math.max(0, marks[0].start - WINDOW / 4);
  let to = Math.min(text.length, from + WINDOW);
  // to the next word's start, unless that would pass the first mark (a long word before it)
  if (from > 0) {
    const space = text.indexOf(' ', from);
    if (space !== -1 && space < marks[0].start) from = space + 1;
  }
  if (to < text.length) to = text.lastIndexOf(' ', to) > marks[0].end ? text.lastIndexOf(' ', to) : to;
  let html = from > 0 ? '…' : '';
  let at = from;
  for (const mark of marks) {
    if (mark.start < from || mark.end > to) continue;
    html += `${escapeHtml(text.slice(at, mark.start))}<mark>${escapeHtml(text.slice(mark.start, mark.end))}</mark>`;
    at = mark.end;
  }
  return `${html}${escapeHtml(text.slice(at, to))}${to < text.length ? '…' : ''}`;
}
