// The browser's side of Web Push, for tests: a subscription's P-256 key pair and auth secret
// (what PushManager.subscribe makes), the decryption of a received push (RFC 8291 over RFC
// 8188's aes128gcm, written from the RFCs with node:crypto alone, so the test does not trust
// the library that encrypted it), and the check of its VAPID signature (RFC 8292).
import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, verify } from 'node:crypto';

export interface BrowserKeys {
  /** The subscription's `keys`, as the browser's PushSubscription JSON has them. */
  keys: { p256dh: string; auth: string };
  decrypt(body: Buffer): Buffer;
}

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

export function browserKeys(): BrowserKeys {
  const ecdh = createECDH('prime256v1');
  const uaPublic = ecdh.generateKeys();
  const authSecret = randomBytes(16);
  return {
    keys: { p256dh: uaPublic.toString('base64url'), auth: authSecret.toString('base64url') },
    decrypt(body: Buffer): Buffer {
      // RFC 8188 §2.1: salt (16) | record size (4) | key id length (1) | key id (the sender's public key).
      const salt = body.subarray(0, 16);
      const idLength = body[20];
      const asPublic = body.subarray(21, 21 + idLength);
      const records = body.subarray(21 + idLength);
      // RFC 8291 §3.3-3.4: the input keying material from the ECDH secret and the auth secret.
      const shared = ecdh.computeSecret(asPublic);
      const prkKey = hmac(authSecret, shared);
      const ikm = hmac(prkKey, Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic, Buffer.from([1])]));
      const prk = hmac(salt, ikm);
      const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
      const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
      // One record (a push is small): ciphertext then the 16-byte tag; the last record's padding delimiter is 2.
      const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
      decipher.setAuthTag(records.subarray(records.length - 16));
      const padded = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()]);
      let end = padded.length - 1;
      while (end >= 0 && padded[end] === 0) end--;
      if (padded[end] !== 2) throw new Error('not the last record of an aes128gcm push');
      return padded.subarray(0, end);
    },
  };
}

/** The VAPID JWT of an `Authorization: vapid t=…, k=…` header, checked against `k`: its claims. */
export function verifiedVapidClaims(authorization: string): { claims: { aud: string; exp: number; sub: string }; publicKey: string } {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization);
  if (!match) throw new Error(`not a VAPID authorization: ${authorization}`);
  const [, jwt, k] = match;
  const [header, payload, signature] = jwt.split('.');
  const point = Buffer.from(k, 'base64url');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, format: 'jwk' });
  const valid = verify('sha256', Buffer.from(`${header}.${payload}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  if (!valid) throw new Error('the VAPID signature does not verify');
  return { claims: JSON.parse(Buffer.from(payload, 'base64url').toString()), publicKey: k };
}
