// The uWebSockets.js side of live sync: a thin adapter from uWS sockets to LiveSession.
import uws, { type TemplatedApp, type WebSocket } from 'uWebSockets.js';
import { METRIC, type MetricSink } from '../../contracts/metrics.ts';
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
  /** uWS is inside this socket's message handler (see `outbox`). */
  inMessage: boolean;
  /**
   * What the session sent (frames, then perhaps its close) while uWS was inside the message
   * handler, written right after it. uWebSockets.js 20.51 drops a TLS connection (1006)
   * when a handler writes to the socket while the read it is handling is large — a client's
   * burst of frames, each answered at once by an error frame, lost the connection after
   * about 512 KiB. Writing after the handler returns never does; order is kept because
   * everything else sent meanwhile goes behind the outbox.
   */
  outbox?: (string | { code: number; reason: string })[];
}

/** How long a close waits for a client that does not read before the socket is dropped. */
const CLOSE_DRAIN_TIMEOUT_MS = 30_000;

export interface LiveEndpointOptions {
  maxBufferedBytes: number;
  createSession(socket: LiveSocket): LiveSession;
  /** Open sockets, frames in and out. */
  metrics: MetricSink;
  /** An HTTP connection became a WebSocket (uWS then reports no close for it as HTTP). */
  upgraded(): void;
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
      res.upgrade<SocketData>({ closed: false, gone: false, inMessage: false }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
      options.upgraded();
    },
    open: (ws) => {
      const data = ws.getUserData();
      options.metrics.increment(METRIC.liveSockets, undefined, 1);
      data.session = options.createSession(adapt(ws, options.metrics));
    },
    message: (ws, message, isBinary) => {
      const data = ws.getUserData();
      options.metrics.increment(METRIC.liveFramesIn);
      data.inMessage = true;
      try {
        data.session?.receive(isBinary ? '' : decoder.decode(message));
      } finally {
        data.inMessage = false;
        if (data.outbox) setImmediate(() => flushOutbox(ws));
      }
    },
    drain: (ws) => {
      const data = ws.getUserData();
      if (data.pendingClose && ws.getBufferedAmount() === 0) endNow(ws);
    },
    close: (ws) => {
      const data = ws.getUserData();
      data.closed = true;
      data.gone = true;
      options.metrics.increment(METRIC.liveSockets, undefined, -1);
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

/** Writes what the session sent during a message handler, in order (see SocketData.outbox). */
function flushOutbox(ws: WebSocket<SocketData>): void {
  const data = ws.getUserData();
  const outbox = data.outbox;
  data.outbox = undefined;
  if (!outbox || data.gone) return;
  ws.cork(() => {
    for (const item of outbox) {
      if (typeof item === 'string') ws.send(item, false, false);
      else endAfterReading(ws, item.code, item.reason);
    }
  });
}

/**
 * Ends the socket once the client has read what is buffered for it: a close frame queued
 * behind megabytes would otherwise wait for a client that is not reading, and the
 * connection be dropped before the frames that say why (resync) reach it.
 */
function endAfterReading(ws: WebSocket<SocketData>, code: number, reason: string): void {
  const data = ws.getUserData();
  if (ws.getBufferedAmount() === 0) {
    ws.end(code, reason);
    return;
  }
  data.pendingClose = { code, reason, timer: setTimeout(() => endNow(ws), CLOSE_DRAIN_TIMEOUT_MS) };
}

function adapt(ws: WebSocket<SocketData>, metrics: MetricSink): LiveSocket {
  const data = ws.getUserData();
  const deferred = () => data.inMessage || data.outbox !== undefined;
  return {
    remoteAddress: Buffer.from(ws.getRemoteAddressAsText()).toString(),
    send(frame) {
      if (data.closed) return;
      metrics.increment(METRIC.liveFramesOut);
      if (deferred()) (data.outbox ??= []).push(frame);
      else ws.send(frame, false, false);
    },
    bufferedAmount() {
      return data.closed ? 0 : ws.getBufferedAmount();
    },
    close(code, reason) {
      if (data.closed) return;
      data.closed = true;
      if (deferred()) (data.outbox ??= []).push({ code, reason });
      else endAfterReading(ws, code, reason);
    },
  };
}
