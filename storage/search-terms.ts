// The words of a message as both search indexes hold them, and of a query as both look them
// up: runs of letters and digits, case folded, diacritics removed (NFKD, marks dropped: "Café"
// is "cafe"), then reduced to their stem with the Porter algorithm (`stemmer`, English: "reports",
// "reporting" and "reported" are all "report"). Done here, once, rather than by each engine's
// analyzer: the embedded FTS5 and Elasticsearch then find the same messages for the same words
// (the Elasticsearch distribution Squared runs on has no stemmers, and its standard analyzer
// keeps diacritics), and a highlight marks exactly the words the index matched.
import { stemmer } from 'stemmer';

const WORD = /[\p{L}\p{N}]+/gu;
/** Longer runs (a pasted hash, base64) are kept whole, unstemmed: no word is that long. */
const MAX_STEMMED = 40;

/** The folded form of one word, before stemming. */
export const foldWord = (word: string) => word.normalize('NFKD').replace(/\p{M}/gu, '').toLocaleLowerCase('und');

/** The index term of one word. */
export function termOf(word: string): string {
  const folded = foldWord(word);
  return folded.length > MAX_STEMMED || /\P{L}/u.test(folded) ? folded : stemmer(folded);
}

/** Every term of a text, in order (repeats kept: they weigh in the score). */
export function termsOf(text: string): string[] {
  return [...text.matchAll(WORD)].map((m) => termOf(m[0]));
}

/** The words of a text with where they are, for marking (actors/search/highlight.ts). */
export function wordsOf(text: string): { start: number; end: number; term: string }[] {
  return [...text.matchAll(WORD)].map((m) => ({ start: m.index, end: m.index + m[0].length, term: termOf(m[0]) }));
}
