// The HTTP client for requests Squared makes on a user's behalf (webhook deliveries, `files`
// URLs), with the SSRF policy of outbound-policy.ts applied where it cannot be dodged:
//
// - an address literal is checked before the request; a name is resolved by undici's
//   connector through a guarded lookup that refuses it when any address it resolves to is
//   non-public, at every new connection — the address checked is the address connected to,
//   so a name that rebinds to 127.0.0.1 after it was accepted is refused then (DNS rebinding);
// - redirects are never followed (undici's `request` has no redirect handling unless asked):
//   a 3xx is handed back as it is, for the caller to treat as a failure;
// - a connect timeout and a total timeout apply, and the response body is read up to a cap
//   and then dropped (a target cannot make Squared buffer without bound);
// - no HTTP proxy from the environment is used (the Agent ignores HTTP(S)_PROXY).
//
// TLS is verified against Node's CA store (extend it with NODE_EXTRA_CA_CERTS for a private CA).
import dns, { type LookupAddress } from 'node:dns';
import { Agent, request } from 'undici';
import { addressRefusal, bareHost, checkTargetUrl, isAddressLiteral, nameIsAllowed, OutboundRefusedError, type AllowList, type OutboundPolicy } from './outbound-policy.ts';

export interface OutboundLimits {
  connectTimeoutMs: number;
  /** From the start of the request to the end of the (capped) body. */
  totalTimeoutMs: number;
  /** Bytes of a response body kept; the rest is not read. */
  maxResponseBytes: number;
  /** Connections to one origin at once: requests beyond it wait for one (per-target limit). */
  connectionsPerOrigin: number;
}

export const DEFAULT_OUTBOUND_LIMITS: OutboundLimits = { connectTimeoutMs: 5_000, totalTimeoutMs: 10_000, maxResponseBytes: 4096, connectionsPerOrigin: 4 };

/** node:dns `lookup`'s shape; tests pass their own resolver to stand for a hostile DNS. */
export type LookupFunction = (hostname: string, options: dns.LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

export interface OutboundRequest {
  method?: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Overrides the client's cap for this request (e.g. a file download). */
  maxResponseBytes?: number;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body was longer than the cap and was cut there. */
  truncated: boolean;
}

type NodeLookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * The `lookup` handed to net/tls.connect: resolves every address of the name and refuses
 * the connection if one of them is non-public (unless the name or the address is
 * allow-listed). Refusing on any, not only the first, keeps a name that lists a public and a
 * private address from reaching the private one through Happy Eyeballs.
 */
export function guardedLookup(allow: AllowList, lookup: LookupFunction) {
  return (hostname: string, options: dns.LookupOptions, callback: NodeLookupCallback): void => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      if (!nameIsAllowed(hostname, allow)) {
        for (const { address } of addresses) {
          const refusal = addressRefusal(address, allow);
          if (refusal) return callback(new OutboundRefusedError(`${hostname} resolves to a refused address: ${refusal}`), []);
        }
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

const systemLookup: LookupFunction = (hostname, options, callback) => dns.lookup(hostname, options, callback);

export class OutboundClient {
  readonly policy: OutboundPolicy;
  readonly limits: OutboundLimits;
  private readonly agent: Agent;

  constructor(policy: OutboundPolicy, limits: OutboundLimits, agent: Agent) {
    this.policy = policy;
    this.limits = limits;
    this.agent = agent;
  }

  /**
   * `lookup` stands for the system resolver (tests give a hostile one); `ca` replaces the
   * trusted roots (tests trust their receiver's certificate; a deployment uses NODE_EXTRA_CA_CERTS).
   */
  static create(policy: OutboundPolicy, limits: OutboundLimits = DEFAULT_OUTBOUND_LIMITS, { lookup = systemLookup, ca }: { lookup?: LookupFunction; ca?: string | Buffer } = {}): OutboundClient {
    const agent = new Agent({
      connect: { timeout: limits.connectTimeoutMs, lookup: guardedLookup(policy.allowHosts, lookup) as never, ...(ca ? { ca } : {}) },
      connections: limits.connectionsPerOrigin,
      headersTimeout: limits.totalTimeoutMs,
      bodyTimeout: limits.totalTimeoutMs,
    });
    return new OutboundClient(policy, limits, agent);
  }

  /**
   * Sends one request under the policy. Throws OutboundRefusedError when the policy refuses
   * the URL or the address its name resolves to (never worth a retry), or undici's error for
   * a timeout or a connection failure.
   */
  async request(target: string, options: OutboundRequest = {}): Promise<OutboundResponse> {
    const cap = options.maxResponseBytes ?? this.limits.maxResponseBytes;
    const response = await this.open(target, options, this.limits.totalTimeoutMs);
    const chunks: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      if (kept + chunk.length > cap) {
        chunks.push(chunk.subarray(0, cap - kept));
        truncated = true;
        response.body.destroy();
        break;
      }
      chunks.push(chunk);
      kept += chunk.length;
    }
    return { status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks), truncated };
  }

  /**
   * A GET under the policy whose body the caller streams (a `files` URL stored like an upload);
   * the caller caps its size. The time limit `timeoutMs` covers the whole body.
   */
  async stream(target: string, timeoutMs: number): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: AsyncIterable<Uint8Array> & { destroy(): void; on(event: 'error', listener: () => void): unknown } }> {
    const response = await this.open(target, {}, timeoutMs);
    return { status: response.statusCode, headers: response.headers, body: response.body as never };
  }

  private async open(target: string, options: OutboundRequest, timeoutMs: number) {
    // Again at each request: the configuration may have changed since the URL was accepted.
    const url = checkTargetUrl(target, this.policy);
    const host = bareHost(url);
    if (isAddressLiteral(host)) {
      const refusal = addressRefusal(host, this.policy.allowHosts);
      if (refusal) throw new OutboundRefusedError(refusal);
    }
    const signal = AbortSignal.timeout(timeoutMs);
    return request(url, { dispatcher: this.agent, method: options.method ?? 'GET', headers: options.headers, body: options.body, signal });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** A failure a later attempt may not meet: refused by the policy, or a URL that cannot be. */
export function isPermanentOutboundError(err: unknown): boolean {
  return err instanceof OutboundRefusedError;
}
