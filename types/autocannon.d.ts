// The part of autocannon's programmatic API the bench uses (bench/rest): it ships no
// typings of its own, and @types/autocannon describes an older major.
declare module 'autocannon' {
  interface Options {
    url: string;
    method?: string;
    connections?: number;
    duration?: number;
    headers?: Record<string, string>;
    body?: string;
  }
  interface Percentiles {
    p50: number;
    p99: number;
    mean: number;
  }
  interface Result {
    requests: Percentiles & { total: number };
    latency: Percentiles;
    non2xx: number;
    errors: number;
    timeouts: number;
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
