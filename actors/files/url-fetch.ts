// A `files` URL fetched and stored like an upload, under the SSRF policy of the webhooks
// (actors/outbound-policy.ts: https only by default, no private or reserved addresses, checked
// at every connection; redirects never followed), with the upload's size limit enforced while
// the body streams into the BlobStore, and a time limit on the whole of it.
import { badRequest } from '../../contracts/errors.ts';
import { BlobTooLargeError, type BlobInfo, type BlobStore } from '../../storage/blob-store.ts';
import { OutboundClient, type LookupFunction } from '../outbound-fetch.ts';
import { OutboundRefusedError, type OutboundPolicy } from '../outbound-policy.ts';

export interface UrlFetchSettings {
  maxFileBytes: number;
  policy: OutboundPolicy;
  fetchTimeoutMs: number;
  connectTimeoutMs: number;
  lookup?: LookupFunction;
}

export class UrlFetcher {
  private readonly settings: UrlFetchSettings;
  private readonly client: OutboundClient;

  constructor(settings: UrlFetchSettings) {
    this.settings = settings;
    this.client = OutboundClient.create(settings.policy, {
      connectTimeoutMs: settings.connectTimeoutMs, totalTimeoutMs: settings.fetchTimeoutMs, maxResponseBytes: settings.maxFileBytes, connectionsPerOrigin: 4,
    }, { lookup: settings.lookup });
  }

  /** Stores the body of `url` as a blob owned by `owner`; every failure is a 400 that says why. */
  async fetchInto(blobs: BlobStore, owner: string, url: string): Promise<BlobInfo & { name: string }> {
    const { maxFileBytes } = this.settings;
    let response: Awaited<ReturnType<OutboundClient['stream']>>;
    try {
      response = await this.client.stream(url, this.settings.fetchTimeoutMs);
    } catch (err) {
      throw badRequest(`The file at ${url} could not be fetched: ${reason(err)}.`);
    }
    if (response.status !== 200) {
      discard(response.body);
      const redirect = response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : '';
      throw badRequest(`The file at ${url} could not be fetched: it answered ${response.status}${redirect}.`);
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxFileBytes) {
      discard(response.body);
      throw badRequest(`The file at ${url} is larger than ${maxFileBytes} bytes.`);
    }
    try {
      const info = await blobs.put(owner, response.body, { maxBytes: maxFileBytes });
      return { ...info, name: nameOf(url) };
    } catch (err) {
      discard(response.body);
      if (err instanceof BlobTooLargeError) throw badRequest(`The file at ${url} is larger than ${maxFileBytes} bytes.`);
      throw badRequest(`The file at ${url} could not be fetched: ${reason(err)}.`);
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Drops a body not to be read: undici's stream errors when destroyed, and that error is no one's concern. */
function discard(body: { destroy(): void; on?(event: 'error', listener: () => void): unknown }): void {
  body.on?.('error', () => undefined);
  body.destroy();
}

function reason(err: unknown): string {
  if (err instanceof OutboundRefusedError) return err.message.replace(/\.$/, '');
  const { name, code } = (err ?? {}) as { name?: string; code?: string };
  if (name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'it took too long';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'the connection timed out';
  return code ? `the connection failed (${code})` : 'the connection failed';
}

/** The last segment of the URL's path, decoded, or `file`. */
function nameOf(url: string): string {
  const segment = new URL(url).pathname.split('/').filter(Boolean).at(-1) ?? '';
  try {
    return decodeURIComponent(segment).slice(0, 255) || 'file';
  } catch {
    return segment.slice(0, 255) || 'file';
  }
}
