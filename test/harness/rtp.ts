// Synthetic media for media-plane tests: an opus RTP stream from ffmpeg (a sine tone), and
// a UDP sink that counts what a plain transport sends it.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';

export const OPUS_SSRC = 11111111;
export const OPUS_PT = 101;

/** The rtpParameters of the stream `startOpusSource` sends. */
export const OPUS_RTP_PARAMETERS = {
  codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2, parameters: { 'sprop-stereo': 1 } }],
  encodings: [{ ssrc: OPUS_SSRC }],
};

/** ffmpeg sending opus RTP to 127.0.0.1:`port` (RTCP to `rtcpPort`) in real time for `seconds`. */
export function startOpusSource(port: number, rtcpPort: number, seconds = 60): ChildProcess {
  const child = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-ac', '2', '-c:a', 'libopus', '-b:a', '64k',
    '-payload_type', String(OPUS_PT), '-ssrc', String(OPUS_SSRC),
    '-f', 'rtp', `rtp://127.0.0.1:${port}?rtcpport=${rtcpPort}&pkt_size=1200`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.resume();
  return child;
}

export class RtpSink {
  bytes = 0;
  packets = 0;
  private readonly socket: dgram.Socket;

  private constructor(socket: dgram.Socket) {
    this.socket = socket;
    socket.on('message', (message) => {
      // RTCP (payload types 200-204 in the second byte) is not media.
      if (message.length > 1 && message[1] >= 200 && message[1] <= 204) return;
      this.bytes += message.length;
      this.packets++;
    });
  }

  static async open(): Promise<RtpSink> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RtpSink(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): void {
    this.socket.close();
  }
}
