// A request body as a Readable, for the routes that stream it (uploads) instead of collecting
// it, with the gateway's memory bounded whatever the pace of the body's consumer.
//
// Why a spool: uWebSockets.js 20.51's res.pause() does not hold a request body back (measured:
// 114 of 115 MB of a fast upload arrived while paused), so a consumer slower than the client
// (Cassandra taking a 50 MB file) had what it had not taken yet wait in this process's memory.
// So the body is not paused at all: it is taken at once, as uWS hands it over. While the
// consumer keeps up, chunks go to it from memory (up to BUFFERED_BYTES waiting); once that much
// waits, the rest of the body is appended to a spool file under the data directory, at disk
// speed, and the consumer reads it back from there at its own pace. The spool file is unlinked
// as soon as it is opened: only its descriptor names it, so no failure path (a refusal, the
// client gone, this process killed) can leave it behind, and closing the descriptor frees it.
//
// A chunk is appended with a synchronous write of uWS's own memory (no copy of it; uWS reuses
// that memory after the callback, which an asynchronous write would have to copy around): a
// write into the page cache costs what the copy would, and when the kernel throttles a writer
// (the disk is behind), the wait is the back-pressure uWS's pause fails to give.
//
// A client that stops sending for `idleMs` is cut off with a 408; more than `maxBytes` is a
// 413, counted as the bytes arrive.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { HttpResponse } from 'uWebSockets.js';
import { HttpError } from './http-errors.ts';

/** How much of a body waits for its consumer in memory before the rest goes to the spool. */
const BUFFERED_BYTES = 1024 * 1024;
/** Bytes read back from the spool at a time. */
const READ_BYTES = 256 * 1024;

export interface RequestStream {
  body: Readable;
  /** The client went away. */
  abort(): void;
}

/** A spool file, open for appending and reading back, its name already gone. */
class Spool {
  readonly fd: number;
  /** Bytes appended so far. */
  written = 0;

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${process.pid}-${randomUUID()}`);
    this.fd = fs.openSync(file, 'wx+', 0o600);
    fs.unlinkSync(file);
  }

  append(chunk: ArrayBuffer): void {
    const bytes = new Uint8Array(chunk);
    for (let done = 0; done < bytes.length;) done += fs.writeSync(this.fd, bytes, done, bytes.length - done, this.written + done);
    this.written += bytes.length;
  }

  close(): void {
    fs.close(this.fd, () => undefined);
  }
}

/** `spoolDir`: where a body its consumer lags behind goes (created when first needed). */
export function requestStream(res: HttpResponse, idleMs: number, maxBytes: number, spoolDir: string): RequestStream {
  let received = 0;
  let ended = false;
  let spool: Spool | undefined;
  /** Where the consumer reads the spool next, and whether a read is under way. */
  let readAt = 0;
  let reading = false;
  /** The consumer asked for more and none was there: the next append (or the end) reads on. */
  let wanted = false;
  const timer = setTimeout(() => body.destroy(new HttpError(408, `The request body stopped arriving for ${Math.round(idleMs / 1000)} s.`)), idleMs);

  /** Reads the spool on from `readAt` while the consumer wants more and there is more. */
  function readSpool(): void {
    if (!spool || reading || body.destroyed) return;
    const available = spool.written - readAt;
    if (available === 0) {
      if (ended) body.push(null);
      else wanted = true;
      return;
    }
    wanted = false;
    reading = true;
    const buffer = Buffer.allocUnsafe(Math.min(available, READ_BYTES));
    const source = spool;
    fs.read(source.fd, buffer, 0, buffer.length, readAt, (err, bytes) => {
      reading = false;
      // Destroyed meanwhile: the descriptor was left open for this read, and closes now.
      if (body.destroyed) return source.close();
      if (err) return void body.destroy(err);
      readAt += bytes;
      if (body.push(buffer.subarray(0, bytes))) readSpool();
    });
  }

  const body = new Readable({
    highWaterMark: BUFFERED_BYTES,
    read() {
      readSpool();
    },
    destroy(err, callback) {
      clearTimeout(timer);
      // A read under way closes it when it returns: the descriptor's number must not be reused under it.
      if (!reading) spool?.close();
      callback(err);
    },
  });

  res.onData((chunk, isLast) => {
    if (ended || body.destroyed) return;
    received += chunk.byteLength;
    if (received > maxBytes) {
      body.destroy(new HttpError(413, `The request body exceeds ${maxBytes} bytes.`));
      return;
    }
    timer.refresh();
    try {
      if (!spool && body.readableLength + chunk.byteLength <= BUFFERED_BYTES) {
        // One copy (ArrayBuffer.slice); Buffer.from of an ArrayBuffer is a view, and uWS reuses the memory.
        if (chunk.byteLength > 0) body.push(Buffer.from(chunk.slice(0)));
      } else {
        // From here on the whole rest goes through the spool, so that the order is kept.
        spool ??= new Spool(spoolDir);
        spool.append(chunk);
      }
    } catch (err) {
      // The spool cannot be written (disk full): the upload fails as any failed body does.
      body.destroy(err as Error);
      return;
    }
    if (isLast) {
      ended = true;
      clearTimeout(timer);
      if (!spool) body.push(null);
    }
    if (spool && (wanted || isLast)) readSpool();
  });
  return {
    body,
    abort: () => {
      if (!ended) body.destroy(new Error('The client went away.'));
    },
  };
}
