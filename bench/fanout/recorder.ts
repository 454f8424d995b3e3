// Accounting of one fan-out phase: every message by number (when it was due, whether its
// post was acknowledged, how many sockets received it) and the latency histograms.
import type { Histogram } from 'hdr-histogram-js';
import { microsHistogram, recordMs } from '../lib/histogram.ts';

export const UNSENT = 0;
export const IN_FLIGHT = 1;
export const ACKED = 2;
export const FAILED = 3;
export const SKIPPED = 4;

export class Recorder {
  /** Messages in the whole phase, the first `warm` of which are warm-up (not measured). */
  readonly total: number;
  readonly warm: number;
  /** Scheduled send time of each message (performance.now() ms of this process). */
  readonly dueAt: Float64Array;
  readonly state: Uint8Array;
  readonly deliveries: Uint32Array;
  /** Sockets per room: the deliveries a message posted to that room must produce. */
  readonly members: number[];

  /** Post → deliver, measured messages only. */
  readonly latency: Histogram = microsHistogram();
  /** Post → acknowledgement (HTTP 200 / baseline ack), measured messages only. */
  readonly ackLatency: Histogram = microsHistogram();
  /** How late the generator sent each message compared to its schedule. */
  readonly generatorLag: Histogram = microsHistogram();

  deliveredTotal = 0;
  deliveredBytes = 0;
  /** Event frames that were not bench messages (e.g. membership events). */
  otherEvents = 0;
  /** Per socket, seq going backwards / skipping ahead within its room. */
  seqDuplicates = 0;
  seqGaps = 0;
  resyncs = 0;
  reconnects = 0;
  readonly unexpectedCloses = new Map<string, number>();
  readonly errorFrames: string[] = [];
  errorFrameCount = 0;
  readonly postErrors = new Map<string, number>();
  readonly postErrorExamples: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  lastDeliveryAt = 0;
  lastAckAt = 0;
  /** Per second of due time (from the first message): deliveries, max latency (ms), deliveries over 100 ms. */
  readonly timeline: { deliveries: number; maxMs: number; over100: number }[] = [];

  constructor(total: number, warm: number, members: number[]) {
    this.total = total;
    this.warm = warm;
    this.dueAt = new Float64Array(total);
    this.state = new Uint8Array(total);
    this.deliveries = new Uint32Array(total);
    this.members = members;
  }

  roomOf(k: number): number {
    return k % this.members.length;
  }

  sent(k: number, now: number): void {
    this.state[k] = IN_FLIGHT;
    this.inFlight++;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
    if (k >= this.warm) recordMs(this.generatorLag, now - this.dueAt[k]);
  }

  acked(k: number, now: number): void {
    this.state[k] = ACKED;
    this.inFlight--;
    if (k >= this.warm) {
      recordMs(this.ackLatency, now - this.dueAt[k]);
      this.lastAckAt = now;
    }
  }

  failed(k: number, reason: string, detail?: string): void {
    this.state[k] = FAILED;
    this.inFlight--;
    this.postErrors.set(reason, (this.postErrors.get(reason) ?? 0) + 1);
    if (detail && this.postErrorExamples.length < 5) this.postErrorExamples.push(detail.slice(0, 300));
  }

  delivered(k: number, sentMicros: number, now: number, bytes: number): void {
    if (k < 0 || k >= this.total) {
      this.otherEvents++;
      return;
    }
    this.deliveries[k]++;
    this.deliveredTotal++;
    this.deliveredBytes += bytes;
    const latencyMs = now - sentMicros / 1000;
    if (k >= this.warm) {
      recordMs(this.latency, latencyMs);
      this.lastDeliveryAt = now;
    }
    const second = Math.floor((this.dueAt[k] - this.dueAt[0]) / 1000);
    const bucket = (this.timeline[second] ??= { deliveries: 0, maxMs: 0, over100: 0 });
    bucket.deliveries++;
    if (latencyMs > bucket.maxMs) bucket.maxMs = latencyMs;
    if (latencyMs > 100) bucket.over100++;
  }

  closedUnexpectedly(code: number): void {
    const key = String(code);
    this.unexpectedCloses.set(key, (this.unexpectedCloses.get(key) ?? 0) + 1);
  }

  errorFrame(text: string): void {
    this.errorFrameCount++;
    if (this.errorFrames.length < 5) this.errorFrames.push(text.slice(0, 300));
  }

  /** Delivery accounting over all messages whose post was acknowledged (warm-up included). */
  accounting(): { expected: number; received: number; missed: number; duplicates: number; deliveredUnacked: number; measuredDeliveries: number; acked: number; measuredAcked: number } {
    let expected = 0, received = 0, missed = 0, duplicates = 0, deliveredUnacked = 0, measuredDeliveries = 0, acked = 0, measuredAcked = 0;
    for (let k = 0; k < this.total; k++) {
      const got = this.deliveries[k];
      if (k >= this.warm) measuredDeliveries += got;
      if (this.state[k] !== ACKED) {
        deliveredUnacked += got;
        continue;
      }
      acked++;
      if (k >= this.warm) measuredAcked++;
      const want = this.members[this.roomOf(k)];
      expected += want;
      received += Math.min(got, want);
      if (got < want) missed += want - got;
      if (got > want) duplicates += got - want;
    }
    return { expected, received, missed, duplicates, deliveredUnacked, measuredDeliveries, acked, measuredAcked };
  }

  count(state: number, from = 0): number {
    let n = 0;
    for (let k = from; k < this.total; k++) if (this.state[k] === state) n++;
    return n;
  }
}
