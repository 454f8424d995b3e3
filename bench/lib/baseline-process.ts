// What every baseline server of the bench does as a process: listen on a free loopback port
// and say so in its ready line (`BASELINE_READY {"port":…}`, see server-process.ts), and exit
// with the driver — on a signal, and when the driver's end of stdin closes (even if the
// driver was SIGKILLed).
import uws from 'uWebSockets.js';

export function serveBaseline(app: uws.TemplatedApp, name: string): void {
  app.listen('127.0.0.1', 0, (listenSocket) => {
    if (!listenSocket) {
      process.stderr.write(`${name}: cannot listen\n`);
      process.exit(1);
    }
    process.stdout.write(`BASELINE_READY ${JSON.stringify({ port: uws.us_socket_local_port(listenSocket) })}\n`);
  });
  const exit = () => process.exit(0);
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  process.stdin.on('end', exit);
  process.stdin.on('close', exit);
  process.stdin.resume();
}

/**
 * The WebSocket behaviour of the baseline servers: Squared's live endpoint without its
 * limits (no compression, automatic pings, a backpressure bound no bench reaches), and an
 * upgrade that keeps no per-socket data.
 */
export const baselineSocketBehaviour = {
  compression: uws.DISABLED,
  maxPayloadLength: 256 * 1024,
  idleTimeout: 60,
  sendPingsAutomatically: true,
  maxBackpressure: 64 * 1024 * 1024,
  closeOnBackpressureLimit: false,
  upgrade: (res: uws.HttpResponse, req: uws.HttpRequest, context: unknown) => {
    res.upgrade({}, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  },
};
