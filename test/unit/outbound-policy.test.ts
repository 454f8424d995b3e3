// The SSRF policy of outbound requests (actors/outbound-policy.ts) and the client that
// applies it at each connection (actors/outbound-fetch.ts), against a real HTTPS server.
// A hostile DNS is stood for by the client's `lookup` — the same hook node:net calls for
// every connection — answering with the address an attacker's zone would hold.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { checkTargetUrl, EMPTY_ALLOW_LIST, nameIsAllowed, OutboundRefusedError, parseAllowList, type OutboundPolicy } from '../../actors/outbound-policy.ts';
import { DEFAULT_OUTBOUND_LIMITS, OutboundClient, type LookupFunction } from '../../actors/outbound-fetch.ts';
import { startHttpsReceiver, type HttpsReceiver } from '../harness/https-receiver.ts';

const strict: OutboundPolicy = { allowHttp: false, allowHosts: EMPTY_ALLOW_LIST };

describe('checkTargetUrl (at creation)', () => {
  const refused = [
    'https://127.0.0.1/', 'https://127.0.0.1:8443/hook', 'https://0x7f.1/', 'https://2130706433/', 'https://017700000001/', 'https://127.1/',
    'https://[::1]/', 'https://[::ffff:10.0.0.1]/', 'https://[::ffff:127.0.0.1]/', 'https://[::ffff:7f00:1]/', 'https://10.1.2.3/',
    'https://172.16.0.1/', 'https://192.168.1.1/', 'https://169.254.169.254/latest/meta-data/', 'https://100.64.0.1/', 'https://224.0.0.1/',
    'https://0.0.0.0/', 'https://[::]/', 'https://255.255.255.255/', 'https://[fe80::1]/', 'https://[fd00:ec2::254]/', 'https://[ff02::1]/',
    'https://[64:ff9b::a00:1]/', 'https://[2002:7f00:1::]/', 'https://[::127.0.0.1]/', 'https://[::7f00:1]/', 'https://[::a9fe:a9fe]/',
    'https://[::10.0.0.1]/', 'https://[64:ff9b::a9fe:a9fe]/', 'https://[2002:a9fe:a9fe::1]/', 'https://[2001::1]/', 'https://[2001:db8::1]/',
    'https://[4000::1]/', 'https://[100::1]/', 'https://[fec0::1]/', 'https://localhost/', 'https://api.localhost/', 'http://example.com/',
    'ftp://example.com/', 'https://user:pw@example.com/', 'not a url', '/relative',
  ];
  for (const url of refused) {
    test(`refuses ${url}`, () => assert.throws(() => checkTargetUrl(url, strict), OutboundRefusedError));
  }
  const accepted = ['https://example.com/hook', 'https://1.1.1.1/', 'https://[2606:4700:4700::1111]/x', 'https://not-resolving-yet.invalid/', 'https://8.8.8.8:8443/',
    // IPv6 forms of a public IPv4 address reach that address: judged by it.
    'https://[::ffff:8.8.8.8]/', 'https://[64:ff9b::808:808]/', 'https://[2002:808:808::1]/'];
  for (const url of accepted) {
    test(`accepts ${url}`, () => assert.equal(checkTargetUrl(url, strict).href, new URL(url).href));
  }
  test('http only when configured', () => {
    assert.equal(checkTargetUrl('http://example.com/', { ...strict, allowHttp: true }).protocol, 'http:');
  });
  test('the allow-list opens names, wildcards, addresses and ranges, nothing more', () => {
    const allowHosts = parseAllowList('localhost, *.corp.test 10.0.0.0/8,[fd00::1] 127.0.0.1');
    const open: OutboundPolicy = { allowHttp: false, allowHosts };
    for (const url of ['https://localhost:9/', 'https://a.b.corp.test/', 'https://10.9.9.9/', 'https://[fd00::1]/', 'https://127.0.0.1/', 'https://[::ffff:10.0.0.1]/']) {
      assert.doesNotThrow(() => checkTargetUrl(url, open), url);
    }
    for (const url of ['https://127.0.0.2/', 'https://[fd00::2]/', 'https://192.168.0.1/', 'https://api.localhost/']) {
      assert.throws(() => checkTargetUrl(url, open), OutboundRefusedError, url);
    }
    // Names not listed are judged by their addresses when used; the wildcard is a suffix match on labels.
    assert.equal(nameIsAllowed('corp.test.evil', allowHosts), false);
    assert.equal(nameIsAllowed('evilcorp.test', allowHosts), false);
    assert.equal(nameIsAllowed('LOCALHOST.', allowHosts), true);
  });
  test('an allow-list entry it cannot read fails loudly', () => {
    assert.throws(() => parseAllowList('10.0.0.0/99'));
    assert.throws(() => parseAllowList('exa mple!.com'));
  });
});

describe('OutboundClient (at each connection)', () => {
  let receiver: HttpsReceiver;
  before(async () => {
    receiver = await startHttpsReceiver();
    receiver.on('/big', () => ({ body: Buffer.alloc(100_000, 'x') }));
    receiver.on('/redirect', () => ({ status: 302, headers: { location: `https://10.0.0.1:${receiver.port}/inside` } }));
    receiver.on('/redirect-here', () => ({ status: 307, headers: { location: `${receiver.url}/landing` } }));
    receiver.on('/hang', () => ({ hang: true }));
  });
  after(() => receiver.close());

  /** A resolver that answers `answers[name]`, and counts the names it was asked. */
  const hostileDns = (answers: Record<string, string[]>) => {
    const asked: string[] = [];
    const lookup: LookupFunction = (hostname, _options, callback) => {
      asked.push(hostname);
      const addresses = answers[hostname];
      if (!addresses) return callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })));
    };
    return { lookup, asked };
  };

  test('a name resolving to 169.254.169.254 is refused when it connects, not sent', async () => {
    const dns = hostileDns({ 'metadata.attacker.test': ['169.254.169.254'] });
    const client = OutboundClient.create(strict, DEFAULT_OUTBOUND_LIMITS, { lookup: dns.lookup, ca: receiver.ca });
    try {
      // Accepted at creation: a name is only judged by what it resolves to when used.
      checkTargetUrl('https://metadata.attacker.test/latest/meta-data/', strict);
      await assert.rejects(client.request('https://metadata.attacker.test/latest/meta-data/'), OutboundRefusedError);
      assert.deepEqual(dns.asked, ['metadata.attacker.test']);
    } finally {
      await client.close();
    }
  });

  test('DNS rebinding: the name is judged by what it resolves to at the connection (now 127.0.0.1), and a public plus a private address is refused', async () => {
    const answers: Record<string, string[]> = { 'rebind.attacker.test': ['93.184.216.34'], 'both.attacker.test': ['93.184.216.34', '10.0.0.7'] };
    const dns = hostileDns(answers);
    const client = OutboundClient.create(strict, { ...DEFAULT_OUTBOUND_LIMITS, connectTimeoutMs: 300 }, { lookup: dns.lookup, ca: receiver.ca });
    try {
      answers['rebind.attacker.test'] = ['127.0.0.1'];
      await assert.rejects(client.request(`https://rebind.attacker.test:${receiver.port}/x`), OutboundRefusedError);
      await assert.rejects(client.request(`https://both.attacker.test:${receiver.port}/x`), OutboundRefusedError);
      assert.equal(receiver.received('/x').length, 0);
    } finally {
      await client.close();
    }
  });

  test('address literals are refused before any connection, the allow-list opens the receiver', async () => {
    const closed = OutboundClient.create(strict, DEFAULT_OUTBOUND_LIMITS, { ca: receiver.ca });
    const open = OutboundClient.create({ allowHttp: false, allowHosts: parseAllowList('localhost') }, DEFAULT_OUTBOUND_LIMITS, { ca: receiver.ca });
    try {
      await assert.rejects(closed.request(`https://127.0.0.1:${receiver.port}/literal`), OutboundRefusedError);
      await assert.rejects(closed.request(`https://localhost:${receiver.port}/literal`), OutboundRefusedError);
      await assert.rejects(open.request(`https://127.0.0.1:${receiver.port}/literal`), OutboundRefusedError);
      assert.equal(receiver.received('/literal').length, 0);
      const answer = await open.request(`${receiver.url}/ok`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
      assert.equal(answer.status, 200);
      assert.equal(receiver.received('/ok')[0].raw.toString(), '{"a":1}');
    } finally {
      await Promise.all([closed.close(), open.close()]);
    }
  });

  test('redirects are handed back, never followed (into a private range or anywhere)', async () => {
    const client = OutboundClient.create({ allowHttp: false, allowHosts: parseAllowList('localhost') }, DEFAULT_OUTBOUND_LIMITS, { ca: receiver.ca });
    try {
      const toPrivate = await client.request(`${receiver.url}/redirect`);
      assert.equal(toPrivate.status, 302);
      const toSelf = await client.request(`${receiver.url}/redirect-here`, { method: 'POST', body: 'x' });
      assert.equal(toSelf.status, 307);
      assert.equal(receiver.received('/landing').length, 0);
      assert.equal(receiver.received('/inside').length, 0);
    } finally {
      await client.close();
    }
  });

  test('the response body is cut at the cap; a target that never answers is ended by the total timeout', async () => {
    const client = OutboundClient.create({ allowHttp: false, allowHosts: parseAllowList('localhost') }, { ...DEFAULT_OUTBOUND_LIMITS, totalTimeoutMs: 500 }, { ca: receiver.ca });
    try {
      const big = await client.request(`${receiver.url}/big`);
      assert.equal(big.body.length, DEFAULT_OUTBOUND_LIMITS.maxResponseBytes);
      assert.equal(big.truncated, true);
      await assert.rejects(client.request(`${receiver.url}/hang`), (err: Error) => !(err instanceof OutboundRefusedError));
    } finally {
      await client.close();
    }
  });
});
