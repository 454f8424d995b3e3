// The REST baseline: a raw uWebSockets.js SSLApp on the bench certificate that answers
// each endpoint of the run with the very bytes Squared answered it with (status, content
// type, body), read once from BASELINE_RESPONSES. No auth, no routing beyond a map, no
// storage: the cost of TLS, HTTP and the bytes themselves. A request body is read to its
// end before the answer, as Squared must. Run as its own process by the bench driver.
import fs from 'node:fs';
import uws from 'uWebSockets.js';
import { serveBaseline } from '../lib/baseline-process.ts';

export interface CannedResponse {
  method: string;
  path: string;
  status: number;
  contentType: string;
  body: string;
}

const certFile = process.env.BASELINE_CERT;
const keyFile = process.env.BASELINE_KEY;
const responsesFile = process.env.BASELINE_RESPONSES;
if (!certFile || !keyFile || !responsesFile) {
  process.stderr.write('rest baseline-server: BASELINE_CERT, BASELINE_KEY and BASELINE_RESPONSES are required\n');
  process.exit(2);
}
const canned = new Map<string, { status: string; contentType: string; body: Buffer }>();
for (const r of JSON.parse(fs.readFileSync(responsesFile, 'utf8')) as CannedResponse[]) {
  canned.set(`${r.method} ${r.path}`, { status: `${r.status} OK`, contentType: r.contentType, body: Buffer.from(r.body) });
}

const app = uws.SSLApp({ cert_file_name: certFile, key_file_name: keyFile });
app.any('/*', (res, req) => {
  const query = req.getQuery();
  const answer = canned.get(`${req.getMethod().toUpperCase()} ${req.getUrl()}${query ? `?${query}` : ''}`);
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  res.onData((_chunk, isLast) => {
    if (!isLast || aborted) return;
    res.cork(() => {
      if (!answer) res.writeStatus('404 Not Found').end();
      else res.writeStatus(answer.status).writeHeader('content-type', answer.contentType).end(answer.body);
    });
  });
});
serveBaseline(app, 'rest baseline-server');
