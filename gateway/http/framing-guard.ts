// Requests whose framing is ambiguous: with two Content-Length (or Transfer-Encoding)
// headers, a proxy in front and this server may disagree on where the body ends, and what
// one of them takes for the rest of the body runs as a second request (request smuggling).
// RFC 9112 §6.3: answer 400 and close the connection.
//
// uWS refuses Content-Length together with Transfer-Encoding, and list values, itself. Two
// Content-Length headers it passes on, framing the body by the first; what follows is
// parsed as the next request in the same synchronous pass over the bytes read, right after
// our handler returns, and before the 400 has left and the connection closed. So the 400 is
// written at once (a handler that has not answered when the next request is parsed makes
// uWS drop the connection unanswered), and the request parsed right after it, if it comes
// from the same address in that same pass, is swallowed: never answered, its connection
// closed once the 400 has been sent. uWS.js tells handlers no connection identity (no
// remote port), hence address and pass. A pass ends when the suspect connection closes
// (uWS closes it right after the pass when nothing else is pending) or at the next turn of
// the event loop, whichever is first. Left open: a peer that does not read its responses
// can keep the connection (and so its 400) unsent past the pass, and send the rest later;
// that peer is the client itself, not a proxy in front, so nothing is smuggled past anyone.
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';

export class FramingGuard {
  /** The address whose next request in this pass is the rest of an ambiguous one. */
  private suspect: string | undefined;

  constructor(app: TemplatedApp) {
    app.filter((_res, count) => {
      if (count < 0) this.suspect = undefined;
    });
  }

  /** An ambiguous request was answered (400, connection closing): watch for what follows it. */
  refused(address: string): void {
    this.suspect = address;
    setImmediate(() => {
      this.suspect = undefined;
    });
  }

  /**
   * Whether this request is the rest of an ambiguous one; if so it is never answered, and
   * its connection is closed once the 400 before it has been flushed.
   */
  swallow(res: HttpResponse, address: string): boolean {
    if (this.suspect === undefined || this.suspect !== address) return false;
    this.suspect = undefined;
    let gone = false;
    res.onAborted(() => {
      gone = true;
    });
    // The 400 sits in uWS's cork buffer until the pass ends; closing now would drop it.
    setImmediate(() => {
      if (!gone) res.close();
    });
    return true;
  }
}
