// The uWebSockets.js side of live sync: a thin adapter from uWS sockets to LiveSession.
import uws, { type TemplatedApp, type WebSocket } from 'uWebSockets.js';
import type { LiveSession } from './live-session.ts';
import type { LiveSocket } from './live-session-host.ts';

interface SocketData {
  session?: LiveSession;
  /** No more frames go out (the session closed it, or the socket is gone). */
  closed: boolean;
  /** The socket is gone: uWS must not be called for it any more. */
  gone: boolean;
  /** A close waiting for the client to read what was already sent (see adapt). */
  pendingClose?: { code: number; reason: string; timer: NodeJS.Timeout };
}

/** How long a close waits for a client that does not read before the socket is dropped. */
const CLOSE_DRAIN_TIMEOUT_MS = 30_000;

export interface LiveEndpointOptions {
  maxBufferedBytes: number;
  createSession(socket: LiveSocket): LiveSession;
}

const decoder = new TextDecoder();

export function registerLiveEndpoint(app: TemplatedApp, options: LiveEndpointOptions): void {
  app.ws<SocketData>('/v1/live', {
    compression: uws.DISABLED,
    maxPayloadLength: 256 * 1024,
    idleTimeout: 60,
    sendPingsAutomatically: true,
    // Sessions decide about lagging clients themselves (the resync signal) well below this.
    maxBackpressure: options.maxBufferedBytes * 4 + 1024 * 1024,
    closeOnBackpressureLimit: false,
    upgrade: (res, req, context) => {
      res.upgrade<SocketData>({ closed: false, gone: false }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws) => {
      const data = ws.getUserData();
      data.session = options.createSession(adapt(ws));
    },
    message: (ws, message, isBinary) => {
      const session = ws.getUserData().session;
      session?.receive(isBinary ? '' : decoder.decode(message));
    },
    drain: (ws) => {
      const data = ws.getUserData();
      if (data.pendingClose && ws.getBufferedAmount() === 0) endNow(ws);
    },
    close: (ws) => {
      const data = ws.getUserData();
      data.closed = true;
      data.gone = true;
      clearTimeout(data.pendingClose?.timer);
      data.session?.closed();
    },
  });
}

function endNow(ws: WebSocket<SocketData>): void {
  const data = ws.getUserData();
  const pending = data.pendingClose;
  if (!pending || data.gone) return;
  clearTimeout(pending.timer);
  data.pendingClose = undefined;
  ws.end(pending.code, pending.reason);
}

function adapt(ws: WebSocket<SocketData>): LiveSocket {
  const data = ws.getUserData();
  return {
    send(frame) {
      if (!data.closed) ws.send(frame, false, false);
    },
    bufferedAmount() {
      return data.closed ? 0 : ws.getBufferedAmount();
    },
    /**
     * Ends the socket once the client has read what is buffered for it: a close frame
     * queued behind megabytes would otherwise wait for a client that is not reading, and
     * the connection be dropped before the frames that say why (resync) reach it.
     */
    close(code, reason) {
      if (data.closed) return;
      data.closed = true;
      if (ws.getBufferedAmount() === 0) {
        ws.end(code, reason);
        return;
      }
      data.pendingClose = { code, reason, timer: setTimeout(() => endNow(ws), CLOSE_DRAIN_TIMEOUT_MS) };
    },
  };
}
