// The baseline: raw uWebSockets.js pub/sub over TLS (SSLApp, the bench certificate), no
// auth, no storage, no per-socket bookkeeping. Subscribers say
// {"type":"hello","topic":"<room>"} on /live and get a ready frame; posters send
// {"room","k","text"} on /post; the server stamps a per-room seq, builds an event frame
// shaped like Squared's (padded to BASELINE_FRAME_BYTES), app.publish()es it to the
// room's topic and acknowledges the poster. Run as its own process by the bench driver.
import uws from 'uWebSockets.js';
import { baselineSocketBehaviour, serveBaseline } from '../lib/baseline-process.ts';

const certFile = process.env.BASELINE_CERT;
const keyFile = process.env.BASELINE_KEY;
if (!certFile || !keyFile) {
  process.stderr.write('baseline-server: BASELINE_CERT and BASELINE_KEY are required\n');
  process.exit(2);
}
const frameBytes = Number(process.env.BASELINE_FRAME_BYTES ?? '0');

const decoder = new TextDecoder();
const seqs = new Map<string, number>();
const pads = new Map<number, string>();
const pad = (n: number) => {
  let p = pads.get(n);
  if (p === undefined) pads.set(n, (p = 'x'.repeat(n)));
  return p;
};

const app = uws.SSLApp({ cert_file_name: certFile, key_file_name: keyFile });

app.ws<object>('/live', {
  ...baselineSocketBehaviour,
  message: (ws, message) => {
    let frame: { type?: string; topic?: string };
    try {
      frame = JSON.parse(decoder.decode(message));
    } catch {
      ws.send('{"type":"error","message":"Frames must be JSON."}');
      return;
    }
    if (frame.type === 'hello' && typeof frame.topic === 'string') {
      ws.subscribe(`room:${frame.topic}`);
      ws.send(JSON.stringify({ type: 'ready', positions: { [frame.topic]: seqs.get(frame.topic) ?? 0 } }));
    } else if (frame.type === 'ping') {
      ws.send('{"type":"pong"}');
    } else {
      ws.send('{"type":"error","message":"Unknown frame."}');
    }
  },
});

app.ws<object>('/post', {
  ...baselineSocketBehaviour,
  message: (ws, message) => {
    const post = JSON.parse(decoder.decode(message)) as { room: string; k: number; text: string };
    const seq = (seqs.get(post.room) ?? 0) + 1;
    seqs.set(post.room, seq);
    const created = new Date().toISOString();
    const head = `{"type":"event","roomId":${JSON.stringify(post.room)},"seq":${seq},"event":"message.created","created":"${created}","data":{"text":${JSON.stringify(post.text)},"roomId":${JSON.stringify(post.room)},"created":"${created}","pad":"`;
    const frame = `${head}${pad(Math.max(0, frameBytes - head.length - 3))}"}}`;
    app.publish(`room:${post.room}`, frame, false, false);
    ws.send(`{"type":"ack","k":${post.k}}`);
  },
});

serveBaseline(app, 'baseline-server');
