// A multipart/form-data body read with busboy as it arrives: its text fields collected (bounded
// in number and size), and at most one file part handed to `onFile` as a stream, to be stored
// while the rest of the body still arrives. Nothing of a file is held here.
import busboy from 'busboy';
import type { Readable } from 'node:stream';
import { HttpError } from './http-errors.ts';

export interface FormLimits {
  /** Bytes of the file part: busboy stops at one more, so that the store sees the excess and refuses it. */
  maxFileBytes: number;
  /** Bytes of one text field. */
  maxFieldBytes: number;
  fileField: string;
}

export interface FilePart {
  /** The file name the client gave (busboy decodes RFC 2231/5987 `filename*` too). */
  name: string;
  stream: Readable;
  /** The fields that came before the file. */
  fieldsSoFar: Record<string, string>;
}

const MAX_FIELDS = 20;

/**
 * Resolves with the fields and what `onFile` resolved with once the whole body is read and
 * the file stored; rejects with a 4xx HttpError for a malformed or refused form, or with
 * `onFile`'s failure. A second file part is a 400 (Webex: one file per message).
 */
export function readForm<T>(body: Readable, contentType: string, limits: FormLimits, onFile: (part: FilePart) => Promise<T>): Promise<{ fields: Record<string, string>; file: T | undefined }> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: { fields: MAX_FIELDS, fieldSize: limits.maxFieldBytes, files: 1, fileSize: limits.maxFileBytes + 1, parts: MAX_FIELDS + 1 },
        defParamCharset: 'utf8',
      });
    } catch {
      return reject(new HttpError(400, 'The multipart/form-data body has no usable boundary.'));
    }
    const fields: Record<string, string> = {};
    let stored: Promise<T> | undefined;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      body.unpipe(parser);
      body.destroy();
      parser.destroy();
      reject(err);
    };
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(new HttpError(400, `The form field ${name} is longer than ${limits.maxFieldBytes} bytes.`));
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      // A form cut short destroys the part with an error; its consumer (if any) hears it through its reads.
      stream.on('error', () => undefined);
      if (name !== limits.fileField) {
        stream.resume();
        return fail(new HttpError(400, `The form part ${name} is a file; only ${limits.fileField} may be.`));
      }
      stored = onFile({ name: info.filename || 'file', stream, fieldsSoFar: { ...fields } });
      stored.catch(fail);
    });
    parser.on('filesLimit', () => fail(new HttpError(400, `A message takes one file (one ${limits.fileField} part).`)));
    parser.on('fieldsLimit', () => fail(new HttpError(400, `The form has more than ${MAX_FIELDS} fields.`)));
    parser.on('partsLimit', () => fail(new HttpError(400, `The form has more than ${MAX_FIELDS + 1} parts.`)));
    parser.on('error', () => fail(new HttpError(400, 'The multipart/form-data body is malformed.')));
    body.on('error', fail);
    parser.on('close', () => {
      if (failed) return;
      (stored ?? Promise.resolve(undefined)).then((file) => resolve({ fields, file }), fail);
    });
    body.pipe(parser);
  });
}
