// The presence baseline: raw uWebSockets.js pub/sub over TLS (the bench certificate), with
// none of Squared's work — no auth, no leases, no aggregation, no pace. Watchers say
// {"type":"hello","topics":["<person>",…]} on /live and get a ready frame; subjects send
// {"type":"activity"} (absorbed: nothing is done) and {"type":"status","personId","status"}
// on /live too, which the server publishes at once as a `presence` frame shaped like
// Squared's on the topic `presence:<person>`. Run as its own process by the bench driver.
import uws from 'uWebSockets.js';
import { baselineSocketBehaviour, serveBaseline } from '../lib/baseline-process.ts';

const certFile = process.env.BASELINE_CERT;
const keyFile = process.env.BASELINE_KEY;
if (!certFile || !keyFile) {
  process.stderr.write('presence baseline: BASELINE_CERT and BASELINE_KEY are required\n');
  process.exit(2);
}

const decoder = new TextDecoder();
const app = uws.SSLApp({ cert_file_name: certFile, key_file_name: keyFile });
app.ws<object>('/live', {
  ...baselineSocketBehaviour,
  message: (ws, message) => {
    const frame = JSON.parse(decoder.decode(message)) as { type: string; topics?: string[]; personId?: string; status?: string };
    if (frame.type === 'activity') return;
    if (frame.type === 'hello') {
      for (const topic of frame.topics ?? []) ws.subscribe(`presence:${topic}`);
      ws.send('{"type":"ready"}');
    } else if (frame.type === 'status') {
      const presence = { type: 'presence', personId: frame.personId, status: frame.status, lastActivity: new Date().toISOString() };
      app.publish(`presence:${frame.personId}`, JSON.stringify(presence), false, false);
    }
  },
});

serveBaseline(app, 'presence baseline');
