// Parsing a request body, JSON or form-urlencoded (the two encodings Webex clients send),
// with work bounded by the body's size: the shape of a body (its fields, members, nesting)
// is checked on the raw bytes before it is parsed, so a body of the maximum size costs a
// few milliseconds of the event loop whatever it holds, never seconds.
import querystring from 'node:querystring';
import { HttpError } from './http-errors.ts';

/** No Webex form has more than a handful of fields; past this many, 400. */
export const MAX_FORM_FIELDS = 1000;
/** No Webex resource nests deeply; bounding depth keeps validators and renderers off deep recursion. */
export const MAX_JSON_DEPTH = 16;
/**
 * Object members and array elements of a JSON body, in all. Parsing an object of 90,000
 * members takes V8 about 100 ms; the largest Webex bodies (a card, 100 invitees) hold a
 * few hundred.
 */
export const MAX_JSON_VALUES = 5000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const PLUS = 0x2b;
const SPACE = 0x20;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

export function parseBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  if (raw.length === 0) return {};
  const type = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) return parseJson(raw);
  if (type === 'application/x-www-form-urlencoded') return parseForm(raw);
  throw new HttpError(415, `Content type ${type} is not supported; send application/json or application/x-www-form-urlencoded.`);
}

function parseJson(raw: Buffer): Record<string, unknown> {
  const problem = jsonShapeProblem(raw);
  if (problem) throw new HttpError(400, problem);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'The request body must be a JSON object.');
  return value as Record<string, unknown>;
}

/**
 * Nesting and the count of members and elements, read from the bytes outside strings (a
 * container opening or a comma starts a value). Not a validation: JSON.parse says whether
 * the body is JSON at all. One pass, byte by byte outside strings; strings are skipped by
 * closingQuote. Plain numeric comparisons: a Set lookup per byte made a megabyte of
 * whitespace cost 17 ms.
 */
function jsonShapeProblem(raw: Buffer): string | undefined {
  let depth = 0;
  let values = 0;
  for (let at = 0; at < raw.length; at++) {
    const byte = raw[at];
    if (byte === QUOTE) {
      at = closingQuote(raw, at);
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > MAX_JSON_DEPTH) return `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`;
      if (++values > MAX_JSON_VALUES) return `The request body holds more than ${MAX_JSON_VALUES} members and elements.`;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    } else if (byte === COMMA && ++values > MAX_JSON_VALUES) {
      return `The request body holds more than ${MAX_JSON_VALUES} members and elements.`;
    }
  }
  return undefined;
}

/**
 * Where the string opened at `open` ends (the end of the body if it never does). Text is
 * jumped over with indexOf to the next quote; a quote that turns out to be escaped (odd
 * backslashes before it) sends the rest of the string through a byte loop, so a string of
 * escaped quotes costs one pass too, not an indexOf and a look back per quote.
 */
function closingQuote(raw: Buffer, open: number): number {
  const quote = raw.indexOf(QUOTE, open + 1);
  if (quote < 0) return raw.length;
  let backslashes = 0;
  while (raw[quote - 1 - backslashes] === BACKSLASH) backslashes++;
  if (backslashes % 2 === 0) return quote;
  for (let at = quote + 1; at < raw.length; at++) {
    const byte = raw[at];
    if (byte === BACKSLASH) at++;
    else if (byte === QUOTE) return at;
  }
  return raw.length;
}

/**
 * A form, split and decoded with the built-ins: at most MAX_FORM_FIELDS pairs are split off,
 * each decoded by decodeURIComponent (several times faster than URLSearchParams on a
 * megabyte of escapes), and leniently by querystring.unescape where it throws, so that a
 * malformed escape stays as it is, as URLSearchParams leaves it. Repeated keys are lists,
 * as in `files=…&files=…`, collected in place (copying the list for each repeat was the
 * quadratic parse).
 */
function parseForm(raw: Buffer): Record<string, unknown> {
  const pairs = withSpaces(raw).toString('utf8').split('&', MAX_FORM_FIELDS + 1);
  if (pairs.length > MAX_FORM_FIELDS) throw new HttpError(400, `The request body has more than ${MAX_FORM_FIELDS} form fields.`);
  const form = new Map<string, string | string[]>();
  for (const pair of pairs) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const key = decodeFormText(equals < 0 ? pair : pair.slice(0, equals));
    const value = equals < 0 ? '' : decodeFormText(pair.slice(equals + 1));
    const existing = form.get(key);
    if (existing === undefined) form.set(key, value);
    else if (Array.isArray(existing)) existing.push(value);
    else form.set(key, [existing, value]);
  }
  return Object.fromEntries(form);
}

/** In a form a `+` is a space (and `%2B` a plus): turned back in the bytes, in one pass, before any decoding. */
function withSpaces(raw: Buffer): Buffer {
  if (!raw.includes(PLUS)) return raw;
  const copy = Buffer.from(raw);
  for (let at = 0; at < copy.length; at++) if (copy[at] === PLUS) copy[at] = SPACE;
  return copy;
}

function decodeFormText(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return querystring.unescape(text);
  }
}
