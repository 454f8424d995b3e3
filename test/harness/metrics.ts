// Scraping a Squared node's Prometheus endpoint (SQUARED_METRICS_PORT; the node's ready
// line names where it listens) and reading figures out of the parsed exposition.
import assert from 'node:assert/strict';
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';

/** The metrics URL a process announced on its SQUARED_READY line. */
export function metricsUrlOf(output: string): string {
  const ready = /^SQUARED_READY (.+)$/m.exec(output);
  assert.ok(ready, 'the process printed its ready line');
  const url = JSON.parse(ready[1]).metrics;
  assert.equal(typeof url, 'string', `the ready line names the metrics endpoint: ${ready[1]}`);
  return url;
}

export async function scrape(url: string): Promise<PrometheusFamily[]> {
  const response = await fetch(url);
  assert.equal(response.status, 200, `GET ${url}`);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusTextFormat(await response.text());
}

function family(families: PrometheusFamily[], name: string, type: PrometheusFamily['type']): PrometheusFamily | undefined {
  const found = families.find((f) => f.name === name);
  if (found) assert.equal(found.type, type, `${name} is a ${type.toLowerCase()}`);
  return found;
}

/** A counter's or gauge's value, summed over the series whose labels include `labels` (0 if absent). */
export function valueOf(families: PrometheusFamily[], name: string, type: 'COUNTER' | 'GAUGE', labels: Record<string, string> = {}): number {
  const found = family(families, name, type);
  return (found?.metrics ?? [])
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value))
    .reduce((sum, sample) => sum + Number(sample.value), 0);
}

/** A histogram's count of observations (its `le="+Inf"` bucket; 0 before the first). */
export function countOf(families: PrometheusFamily[], name: string): number {
  const found = family(families, name, 'HISTOGRAM');
  return (found?.metrics ?? []).reduce((sum, sample) => sum + Number(sample.buckets?.['+Inf'] ?? 0), 0);
}
