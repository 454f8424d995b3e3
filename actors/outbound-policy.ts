// Where Squared may send requests on a user's behalf (webhook targets, `files` URLs to
// fetch): the SSRF policy, as pure functions over URLs and addresses, shared by every actor
// that reaches out (actors/outbound-fetch.ts applies it to each connection).
//
// Refused unless the allow-list opens them: any scheme but https (http too when configured),
// and every address outside the public unicast space — for IPv4 loopback, private, link-local
// (which holds the cloud metadata address 169.254.169.254), CGNAT, multicast, unspecified,
// broadcast, reserved and documentation ranges; for IPv6 everything outside global unicast
// 2000::/3 (loopback, unique-local fd00:ec2::254, link-local, multicast, unassigned space) and
// the special ranges inside it (Teredo, documentation…). The IPv6 forms that embed an IPv4
// address (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4) are judged
// by that IPv4 address. The WHATWG URL parser normalises the odd IPv4 spellings (`0x7f.1`,
// `2130706433`, `017700000001`) to dotted quads before ipaddr.js classifies them, so each has
// one answer.
import ipaddr from 'ipaddr.js';

export interface OutboundPolicy {
  /** `http:` targets are allowed too (trusted networks, development). */
  allowHttp: boolean;
  /** Host names (exact, or `*.example.com` for its subdomains) and CIDR ranges let through. */
  allowHosts: AllowList;
}

export interface AllowList {
  names: string[];
  suffixes: string[];
  ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

export const EMPTY_ALLOW_LIST: AllowList = { names: [], suffixes: [], ranges: [] };

/** A refusal, with the reason a client is told (the 400's message). */
export class OutboundRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

/**
 * Parses `SQUARED_WEBHOOK_ALLOW_HOSTS`-style text: comma- or space-separated host names,
 * `*.suffix` wildcards, address literals and CIDR ranges (`10.0.0.0/8`, `fd00::/8`).
 * Throws on an entry it cannot read, so a typo fails the start instead of opening nothing.
 */
export function parseAllowList(text: string | undefined): AllowList {
  const list: AllowList = { names: [], suffixes: [], ranges: [] };
  for (const raw of (text ?? '').split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase().replace(/^\[|\]$/g, '');
    if (!entry) continue;
    if (entry.includes('/')) {
      if (!ipaddr.isValidCIDR(entry)) throw new Error(`allow-list: ${JSON.stringify(raw)} is not a CIDR range`);
      list.ranges.push(ipaddr.parseCIDR(entry));
    } else if (ipaddr.isValid(entry)) {
      const address = ipaddr.parse(entry);
      list.ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (entry.startsWith('*.') && isHostName(entry.slice(2))) {
      list.suffixes.push(entry.slice(1));
    } else if (isHostName(entry)) {
      list.names.push(entry);
    } else {
      throw new Error(`allow-list: ${JSON.stringify(raw)} is neither a host name, an address nor a CIDR range`);
    }
  }
  return list;
}

function isHostName(text: string): boolean {
  return /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/.test(text);
}

export function nameIsAllowed(hostname: string, allow: AllowList): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return allow.names.includes(name) || allow.suffixes.some((suffix) => name.endsWith(suffix));
}

/** The address in its plain form: an IPv4-mapped IPv6 address is its IPv4 address. */
function plain(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  return ipaddr.process(address.replace(/^\[|\]$/g, ''));
}

export function addressIsAllowed(address: string, allow: AllowList): boolean {
  const parsed = plain(address);
  return allow.ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
}

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
const COMPATIBLE_V6 = ipaddr.parseCIDR('::/96');
const NAT64_V6 = ipaddr.parseCIDR('64:ff9b::/96');
const SIX_TO_FOUR_V6 = ipaddr.parseCIDR('2002::/16');

const ipv4Of = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);

/**
 * The IPv4 address an IPv6 form carries and would reach — IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-compatible (::a.b.c.d, also spelled ::7f00:1), NAT64 (64:ff9b::/96) and 6to4
 * (2002:aabb:ccdd::/48) — or undefined for a plain IPv6 address.
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const parts = address.parts;
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  if (address.match(COMPATIBLE_V6) || address.match(NAT64_V6)) return ipv4Of(parts[6], parts[7]);
  if (address.match(SIX_TO_FOUR_V6)) return ipv4Of(parts[1], parts[2]);
  return undefined;
}

/**
 * Why an address may not be reached, or undefined for a public unicast one (or one the
 * allow-list opens). An IPv4 address must be in ipaddr.js's `unicast` (every special range
 * it names is refused). An IPv6 address must be global unicast (2000::/3) outside every
 * special range ipaddr.js names inside it (Teredo, benchmarking, documentation, ORCHID…);
 * an IPv6 form carrying an IPv4 address is judged by that IPv4 address alone, so
 * `[::127.0.0.1]` (the URL parser writes `[::7f00:1]`) and `::a9fe:a9fe` are loopback and
 * link-local, as they are.
 */
export function addressRefusal(address: string, allow: AllowList): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(bare)) return `${address} is not an IP address`;
  if (addressIsAllowed(address, allow)) return undefined;
  const parsed = ipaddr.parse(bare);
  const v4 = parsed.kind() === 'ipv4' ? (parsed as ipaddr.IPv4) : embeddedIPv4(parsed as ipaddr.IPv6);
  if (v4) {
    if (v4 !== parsed && addressIsAllowed(v4.toString(), allow)) return undefined;
    const range = v4.range();
    return range === 'unicast' ? undefined : `the address ${address} is in a non-public range (${range}${v4 === parsed ? '' : ` as ${v4.toString()}`})`;
  }
  const v6 = parsed as ipaddr.IPv6;
  const range = v6.range();
  if (!v6.match(GLOBAL_UNICAST_V6)) return `the address ${address} is outside the global unicast space (${range === 'unicast' ? 'unassigned' : range})`;
  return range === 'unicast' ? undefined : `the address ${address} is in a non-public range (${range})`;
}

/** The host of a parsed URL without the brackets of an IPv6 literal. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

export const isAddressLiteral = (host: string): boolean => ipaddr.isValid(host);

/**
 * Checks a target URL when it is given (webhook creation): the scheme, the absence of
 * credentials, and — for an address literal — its range. A name is accepted here whatever
 * it resolves to now (Webex accepts names that do not resolve yet): its addresses are
 * checked at each connection (outbound-fetch.ts), which also defeats DNS rebinding.
 * Throws OutboundRefusedError with the reason; returns the parsed URL.
 */
export function checkTargetUrl(text: string, policy: OutboundPolicy): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OutboundRefusedError(`${JSON.stringify(text)} is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw new OutboundRefusedError(policy.allowHttp ? 'The URL must use https or http.' : 'The URL must use https.');
  }
  if (url.username || url.password) throw new OutboundRefusedError('The URL must not carry credentials.');
  const host = bareHost(url);
  if (!host) throw new OutboundRefusedError('The URL has no host.');
  if (isAddressLiteral(host)) {
    const refusal = addressRefusal(host, policy.allowHosts);
    if (refusal) throw new OutboundRefusedError(`The URL is not allowed: ${refusal}.`);
  } else if (!nameIsAllowed(host, policy.allowHosts) && /(^|\.)localhost\.?$/i.test(host)) {
    // RFC 6761: localhost names are the machine itself, whatever a resolver says.
    throw new OutboundRefusedError('The URL is not allowed: localhost names the server itself.');
  }
  return url;
}
