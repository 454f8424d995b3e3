// An HTTPS client for the API tests. Every response it receives is checked: successes
// against the Webex OpenAPI spec, errors against the Webex error shape, and every
// response must carry a TrackingID header.
import https from 'node:https';
import { assertValidResponse, errorShapeProblems, extensions } from './openapi-check.ts';

extensions.add('/bots');
extensions.add('/access_token/revoke');

export interface ApiResponse<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
  /** The body's bytes as they came (an image). */
  bytes: Buffer;
}

export interface RequestOptions {
  json?: unknown;
  form?: Record<string, string>;
  /** Raw body bytes with their own content type, for malformed-input tests. */
  raw?: { body: string | Buffer; contentType?: string };
  headers?: Record<string, string>;
  token?: string | null;
  /** Skip response validation (only for responses the spec cannot describe). */
  unchecked?: boolean;
}

export class ApiClient {
  readonly baseUrl: string;
  readonly token: string | undefined;
  private readonly agent: https.Agent;

  constructor(baseUrl: string, ca: Buffer, token?: string, agent?: https.Agent) {
    this.baseUrl = baseUrl;
    this.token = token;
    this.agent = agent ?? new https.Agent({ ca, keepAlive: true, maxSockets: 32 });
  }

  as(token: string | undefined): ApiClient {
    return new ApiClient(this.baseUrl, Buffer.alloc(0), token, this.agent);
  }

  get<T = any>(path: string, options: RequestOptions = {}) { return this.request<T>('GET', path, options); }
  post<T = any>(path: string, json?: unknown, options: RequestOptions = {}) { return this.request<T>('POST', path, { json, ...options }); }
  put<T = any>(path: string, json?: unknown, options: RequestOptions = {}) { return this.request<T>('PUT', path, { json, ...options }); }
  patch<T = any>(path: string, json?: unknown, options: RequestOptions = {}) { return this.request<T>('PATCH', path, { json, ...options }); }
  delete<T = any>(path: string, options: RequestOptions = {}) { return this.request<T>('DELETE', path, options); }

  request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = new URL(path, this.baseUrl);
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === null ? undefined : (options.token ?? this.token);
    if (token) headers.authorization = `Bearer ${token}`;
    let body: Buffer | undefined;
    if (options.raw) {
      body = Buffer.from(options.raw.body);
      if (options.raw.contentType) headers['content-type'] = options.raw.contentType;
    } else if (options.form) {
      body = Buffer.from(new URLSearchParams(options.form).toString());
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (options.json !== undefined) {
      body = Buffer.from(JSON.stringify(options.json));
      headers['content-type'] = 'application/json';
    }
    if (body) headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method, headers, agent: this.agent, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          const text = bytes.toString('utf8');
          let parsed: unknown = text === '' ? undefined : text;
          if (text !== '' && /json/.test(String(res.headers['content-type']))) parsed = JSON.parse(text);
          const response: ApiResponse<T> = { status: res.statusCode!, headers: res.headers, body: parsed as T, text, bytes };
          try {
            if (!options.unchecked) check(method, url, response);
            resolve(response);
          } catch (err) {
            reject(err);
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      // Whether the request can have reached the server: not before TLS was established.
      let secured = false;
      req.on('socket', (socket) => {
        if (req.reusedSocket) secured = true; // a keep-alive socket, long secured
        else socket.once('secureConnect', () => (secured = true));
      });
      req.on('error', (err: Error & { requestMayHaveBeenSent?: boolean }) => {
        err.requestMayHaveBeenSent = secured;
        reject(err);
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function check(method: string, url: URL, response: ApiResponse): void {
  if (!response.headers['trackingid']) throw new Error(`${method} ${url.pathname} -> ${response.status} has no TrackingID header`);
  if (!url.pathname.startsWith('/v1/')) return;
  if (response.status >= 400 && url.pathname !== '/v1/access_token') {
    const problems = errorShapeProblems(response.body);
    if (problems.length) throw new Error(`${method} ${url.pathname} -> ${response.status} is not a Webex error:\n  - ${problems.join('\n  - ')}\n${response.text}`);
    return;
  }
  assertValidResponse(method, url.pathname + url.search, response.status, response.body);
}
