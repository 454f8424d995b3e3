// Writing a streamed body (a file) to a uWS response with backpressure: each chunk goes out
// with tryEnd; when the socket's buffer is full the source is paused until uWS calls
// onWritable, and the rest of that chunk is written from the offset uWS reports. A client
// reading slowly therefore holds one chunk here, never the file.
import type { Readable } from 'node:stream';
import type { HttpResponse } from 'uWebSockets.js';

/** Writes `source` (exactly `length` bytes) as the body; `done` once it is all out, failed or abandoned. */
export function pipeToResponse(res: HttpResponse, source: Readable, length: number, closeConnection: boolean, onAbort: (listener: () => void) => void, done: () => void): void {
  let finished = false;
  /** A chunk waits for the socket to drain (the source is paused meanwhile). */
  let waiting = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    source.destroy();
    done();
  };
  onAbort(finish);
  if (length === 0) {
    res.cork(() => res.end(undefined, closeConnection));
    return finish();
  }
  source.on('data', (chunk: Buffer) => {
    if (finished) return;
    const offset = res.getWriteOffset();
    let ok = false;
    let complete = false;
    res.cork(() => {
      [ok, complete] = res.tryEnd(chunk, length);
    });
    if (complete) return finish();
    if (ok) return;
    source.pause();
    waiting = true;
    res.onWritable((writableAt) => {
      if (finished) return true;
      const [retried, completeNow] = res.tryEnd(chunk.subarray(writableAt - offset), length);
      if (completeNow) finish();
      else if (retried) {
        waiting = false;
        source.resume();
      }
      return retried;
    });
  });
  source.on('error', () => {
    // The headers are out: the only honest signal left is a cut connection.
    if (!finished) res.close();
    finish();
  });
  source.on('end', () => {
    // A source shorter than announced (the blob was deleted while read): cut, never padded.
    if (finished || waiting) return;
    res.close();
    finish();
  });
}
