// Elasticsearch failures as Squared reports them: one error type with the HTTP status when
// the server answered, and the first real failure of a bulk request (a version conflict, a
// newer document already there, is not one).
import { errors } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';

/** An Elasticsearch failure, with its HTTP status when the server answered. */
export class ElasticsearchError extends Error {
  readonly statusCode: number | undefined;

  constructor(message: string, statusCode: number | undefined, cause: unknown) {
    super(message, { cause });
    this.name = 'ElasticsearchError';
    this.statusCode = statusCode;
  }
}

export function describe(err: unknown): { text: string; status: number | undefined } {
  if (err instanceof errors.ResponseError) {
    const body = err.body as { error?: { type?: string; reason?: string; root_cause?: { reason?: string }[] } | string } | undefined;
    const error = body?.error;
    const detail = typeof error === 'string' ? error : error ? `${error.type ?? 'error'}: ${error.reason ?? error.root_cause?.[0]?.reason ?? ''}` : err.message;
    return { text: `HTTP ${err.statusCode}: ${detail}`, status: err.statusCode };
  }
  if (err instanceof Error) return { text: `${err.name}: ${err.message}`, status: undefined };
  return { text: String(err), status: undefined };
}

export function wrap(what: string, err: unknown): ElasticsearchError {
  if (err instanceof ElasticsearchError) return err;
  const { text, status } = describe(err);
  return new ElasticsearchError(`elasticsearch ${what} failed: ${text}`, status, err);
}

/** The first failed item of a bulk request; a version conflict (a newer document is there) and, when asked, a 404 are not failures. */
export function bulkFailure(what: string, response: estypes.BulkResponse, ignoreNotFound: boolean): ElasticsearchError | undefined {
  if (!response.errors) return undefined;
  const failed = response.items
    .map((item) => Object.values(item)[0])
    .filter((item): item is estypes.BulkResponseItem => item !== undefined && item.error !== undefined && item.status !== 409 && !(ignoreNotFound && item.status === 404));
  if (failed.length === 0) return undefined;
  const first = failed[0];
  return new ElasticsearchError(
    `elasticsearch ${what} failed for ${failed.length} of ${response.items.length} documents; first: ${first._id}: HTTP ${first.status} ${first.error?.type}: ${first.error?.reason}`,
    first.status, undefined);
}

