// A request body as a Readable, for the routes that stream it (uploads) instead of collecting
// it: uWS's chunks are copied out (uWS reuses their memory) and pushed; when the consumer falls
// behind, the socket is paused (res.pause) until it reads again. That pause is a request, not
// a guarantee: with uWebSockets.js 20.51 most of a fast upload still arrives while paused, so
// what a slow consumer has not taken yet waits here, bounded only by `maxBytes` (413 past it,
// counted as the bytes arrive). A client that stops sending for `idleMs` is cut off with a 408
// (the timer does not run while the consumer is the one waiting).
import { Readable } from 'node:stream';
import type { HttpResponse } from 'uWebSockets.js';
import { HttpError } from './http-errors.ts';

/** How much of a body waits for its consumer before the socket is paused. */
const BUFFERED_BYTES = 1024 * 1024;

export interface RequestStream {
  body: Readable;
  /** The client went away. */
  abort(): void;
}

export function requestStream(res: HttpResponse, idleMs: number, maxBytes: number): RequestStream {
  let received = 0;
  let paused = false;
  let ended = false;
  /** The client went away: `res` must not be touched. */
  let gone = false;
  const idle = () => body.destroy(new HttpError(408, `The request body stopped arriving for ${Math.round(idleMs / 1000)} s.`));
  let timer: NodeJS.Timeout | undefined = setTimeout(idle, idleMs);
  const stopTimer = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const body = new Readable({
    highWaterMark: BUFFERED_BYTES,
    read() {
      if (!paused) return;
      paused = false;
      res.resume();
      if (!ended) timer = setTimeout(idle, idleMs);
    },
    destroy(err, callback) {
      stopTimer();
      // Refused (413, 408) before the answer is written: a paused socket would hold the answer back.
      if (paused && !gone) {
        paused = false;
        res.resume();
      }
      callback(err);
    },
  });
  res.onData((chunk, isLast) => {
    if (ended) return;
    if (body.destroyed) return;
    // Counted as it arrives, not as it is consumed: uWS's pause() does not hold a body back
    // (measured: most of a fast upload arrives while paused), so the consumer may lag far
    // behind, and a limit checked only there would read on long past it.
    received += chunk.byteLength;
    if (received > maxBytes) {
      body.destroy(new HttpError(413, `The request body exceeds ${maxBytes} bytes.`));
      return;
    }
    if (timer) timer.refresh();
    // One copy (ArrayBuffer.slice); Buffer.from of an ArrayBuffer is a view.
    if (!body.push(Buffer.from(chunk.slice(0))) && !isLast) {
      paused = true;
      stopTimer();
      res.pause();
    }
    if (isLast) {
      ended = true;
      stopTimer();
      body.push(null);
      // uWS may hand over what it had read before a pause took effect, the end included: the
      // socket must not stay paused, or the next request on the connection is never read.
      if (paused) {
        paused = false;
        res.resume();
      }
    }
  });
  return {
    body,
    abort: () => {
      gone = true;
      if (!ended) body.destroy(new Error('The client went away.'));
    },
  };
}
