// Squared's media plane as the media bench target: one mediasoup worker (the one measured),
// one meeting on it, N synthetic participants each sending audio and video over a plain
// RTP transport and consuming everyone else's streams on a plain transport whose packets
// go to a sink socket that is never read (the kernel drops them: receiving them would cost
// this 2-core machine more than forwarding them).
import dgram from 'node:dgram';
import { Meeting } from '../../media/meeting.ts';
import { WorkerPool } from '../../media/worker-pool.ts';
import { rtpParametersOf, type StreamSpec } from './rtp-generator.ts';

export interface SfuTarget {
  workerPid: number;
  /** Where participant i sends its RTP. */
  ports: number[];
  consumers: number;
  /** Packets the consumers sent so far (from the worker's stats). */
  forwarded(): Promise<number>;
  stop(): Promise<void>;
}

export async function startSfuTarget(participants: { audio: StreamSpec; video: StreamSpec }[], log: (line: string) => void): Promise<SfuTarget> {
  const pool = await WorkerPool.start({ size: 1, logger: { info: () => undefined, warn: (o, m) => log(`    worker warning: ${m} ${JSON.stringify(o)}`), error: (o, m) => log(`    worker error: ${m} ${JSON.stringify(o)}`) } });
  // Each participant consumes everyone else's audio and video: past the default consumer
  // cap in meetings of more than 500, so the caps are sized to the run.
  const participantLimits = { transports: 2, producers: 2, consumers: Math.max(1, 2 * (participants.length - 1)) };
  const meeting = await Meeting.create('bench', pool, { ip: '127.0.0.1' }, { participantsPerRouter: participants.length, participantLimits });
  const sink = dgram.createSocket({ type: 'udp4', recvBufferSize: 4096 });
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
  const stop = async () => {
    meeting.close();
    await pool.close();
    sink.close();
  };
  try {
    const ids = participants.map((_, i) => `p${i}`);
    const ports: number[] = [];
    const recvTransports: string[] = [];
    const producers: string[][] = [];
    for (const id of ids) await meeting.join(id, meeting.rtpCapabilities);
    for (const [i, id] of ids.entries()) {
      const send = await meeting.createTransport(id, 'plain', 'send');
      ports.push(send.port!);
      producers.push([
        await meeting.produce(id, send.id, 'audio', rtpParametersOf(participants[i].audio) as never),
        await meeting.produce(id, send.id, 'video', rtpParametersOf(participants[i].video) as never),
      ]);
      const recv = await meeting.createTransport(id, 'plain', 'recv');
      await meeting.connectTransport(id, recv.id, { ip: '127.0.0.1', port: sink.address().port });
      recvTransports.push(recv.id);
    }
    const consumers: { participant: string; id: string }[] = [];
    for (const [i, id] of ids.entries()) {
      for (const [j, owned] of producers.entries()) {
        if (j === i) continue;
        for (const producerId of owned) {
          const consumer = await meeting.consume(id, recvTransports[i], producerId);
          await meeting.resumeConsumer(id, consumer.id);
          consumers.push({ participant: id, id: consumer.id });
        }
      }
    }
    return {
      workerPid: meeting.workerPid,
      ports,
      consumers: consumers.length,
      async forwarded() {
        let packets = 0;
        for (const c of consumers) {
          const stats = (await meeting.stats(c.participant, c.id)) as { type: string; packetCount?: number }[];
          packets += stats.find((s) => s.type === 'outbound-rtp')?.packetCount ?? 0;
        }
        return packets;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
