// Parsing a request body, JSON or form-urlencoded (the two encodings Webex clients send),
// with work bounded by the body's size: the shape of a body (its fields, members, nesting)
// is checked before it is parsed (json-shape.ts), so a body of the maximum size costs a few
// milliseconds of the event loop whatever it holds, never seconds.
import querystring from 'node:querystring';
import { jsonShapeProblem } from '../json-shape.ts';
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

const PLUS = 0x2b;
const SPACE = 0x20;

export function parseBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  if (raw.length === 0) return {};
  const type = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) return parseJson(raw);
  if (type === 'application/x-www-form-urlencoded') return parseForm(raw);
  throw new HttpError(415, `Content type ${type} is not supported; send application/json or application/x-www-form-urlencoded.`);
}

function parseJson(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8');
  const problem = jsonShapeProblem(text, MAX_JSON_DEPTH, MAX_JSON_VALUES);
  if (problem) throw new HttpError(400, `The request body ${problem}.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'The request body must be a JSON object.');
  return value as Record<string, unknown>;
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
