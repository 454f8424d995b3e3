// The uWebSockets.js side of live sync: a thin adapter from uWS sockets to LiveSession.
import uws, { type TemplatedApp, type WebSocket } from 'uWebSockets.js';
import type { LiveSession, LiveSocket } from './live-session.ts';

interface SocketData {
  session?: LiveSession;
  closed: boolean;
}

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
      res.upgrade<SocketData>({ closed: false }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws) => {
      const data = ws.getUserData();
      data.session = options.createSession(adapt(ws));
    },
    message: (ws, message, isBinary) => {
      const session = ws.getUserData().session;
      session?.receive(isBinary ? '' : decoder.decode(message));
    },
    close: (ws) => {
      const data = ws.getUserData();
      data.closed = true;
      data.session?.closed();
    },
  });
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
    close(code, reason) {
      if (data.closed) return;
      data.closed = true;
      ws.end(code, reason);
    },
  };
}
