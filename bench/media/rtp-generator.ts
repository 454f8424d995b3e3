// Synthetic participants' media for the media bench: every participant sends an opus-like
// audio stream and a VP8 video stream as RTP over UDP from this process, at fixed packet
// rates and sizes. Payloads are not real codec output (nothing decodes them on the way);
// every video packet is shaped as a VP8 key frame so that consumers forward from the start.
import dgram from 'node:dgram';

export interface StreamSpec {
  payloadType: number;
  ssrc: number;
  /** RTP timestamp units per second. */
  clockRate: number;
  packetsPerSecond: number;
  payloadBytes: number;
  video: boolean;
}

export const AUDIO_PT = 101;
export const VIDEO_PT = 96;

/** The RTP streams of participant `i`: audio and video, with distinct SSRCs. */
export function streamsOf(i: number, audioPps: number, audioBytes: number, videoPps: number, videoBytes: number): { audio: StreamSpec; video: StreamSpec } {
  return {
    audio: { payloadType: AUDIO_PT, ssrc: 10_000_000 + i * 2, clockRate: 48000, packetsPerSecond: audioPps, payloadBytes: audioBytes, video: false },
    video: { payloadType: VIDEO_PT, ssrc: 10_000_001 + i * 2, clockRate: 90000, packetsPerSecond: videoPps, payloadBytes: videoBytes, video: true },
  };
}

export function rtpParametersOf(stream: StreamSpec) {
  return stream.video
    ? { codecs: [{ mimeType: 'video/VP8', payloadType: VIDEO_PT, clockRate: 90000 }], encodings: [{ ssrc: stream.ssrc }] }
    : { codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: stream.ssrc }] };
}

function packetOf(stream: StreamSpec, seq: number, timestamp: number): Buffer {
  const packet = Buffer.alloc(12 + stream.payloadBytes, 0x5a);
  packet[0] = 0x80; // RTP version 2
  packet[1] = stream.payloadType | (stream.video ? 0x80 : 0); // marker: one packet per frame
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE(timestamp >>> 0, 4);
  packet.writeUInt32BE(stream.ssrc, 8);
  if (stream.video) {
    // VP8 payload descriptor: start of partition 0; then a key frame header (P bit 0,
    // show_frame), the start code and a 640x360 size.
    Buffer.from([0x10, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01]).copy(packet, 12);
  }
  return packet;
}

/** Sends every participant's streams to its own destination port until `stop()`. */
export class RtpGenerator {
  sent = 0;
  private readonly socket: dgram.Socket;
  private timer: NodeJS.Timeout | undefined;

  private constructor(socket: dgram.Socket) {
    this.socket = socket;
  }

  static async open(): Promise<RtpGenerator> {
    const socket = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 * 1024 * 1024 });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RtpGenerator(socket);
  }

  /** Every 10 ms, sends what each stream is due by then. */
  start(targets: { port: number; streams: StreamSpec[] }[]): void {
    const started = performance.now();
    const state = targets.flatMap((t) => t.streams.map((stream) => ({ port: t.port, stream, sent: 0 })));
    this.timer = setInterval(() => {
      const elapsed = (performance.now() - started) / 1000;
      for (const s of state) {
        const due = Math.floor(elapsed * s.stream.packetsPerSecond);
        for (; s.sent < due; s.sent++) {
          const timestamp = Math.floor((s.sent / s.stream.packetsPerSecond) * s.stream.clockRate);
          this.socket.send(packetOf(s.stream, s.sent, timestamp), s.port, '127.0.0.1');
          this.sent++;
        }
      }
    }, 10);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  close(): void {
    this.stop();
    this.socket.close();
  }
}
