// The `media` service of a media node: its worker pool and the meetings placed on it. It
// is called by the conference control (never by clients directly), always on the node that
// hosts the meeting (`nodeID` in the call: placement is the caller's decision, made with
// `media.load`). Every action names the participant it acts for; the Meeting lets it reach
// only that participant's objects. Events tell the conference control what the media
// plane did on its own: a meeting moved to another worker, a consumer closed, a producer
// paused, the active speaker changed.
//
// A meeting may span media nodes: the conference control links the meeting's instances on
// two nodes (`linkEndpoint`, `connectLink`) and pipes producers across (`pipeOut` on the
// producer's node, `pipeIn` with its answer on the other). What then happens to a producer
// at home reaches the copies on other nodes through the events every media node hears:
// `media.producerGone`, `media.producerPaused`, `media.linksLost`, and a node disconnecting.
//
// Every action is internal (`visibility: 'public'`): reachable from other nodes' services,
// never published to a client route. Each participant's transports, producers and
// consumers are capped (`participantLimits`); past a cap the answer is 403
// MEDIA_LIMIT_REACHED.
import type { Context, ServiceSchema } from 'moleculer';
import type { ParticipantMediaLimits } from '../contracts/config.ts';
import { ApiError } from '../contracts/errors.ts';
import { MediaError } from './media-error.ts';
import { Meeting, type ListenSettings } from './meeting.ts';
import { WorkerPool, type WorkerPoolOptions } from './worker-pool.ts';

export interface MediaServiceOptions {
  pool: Omit<WorkerPoolOptions, 'logger'>;
  listen: ListenSettings;
  /** What one participant may hold at once (default: DEFAULT_PARTICIPANT_MEDIA_LIMITS). */
  participantLimits?: ParticipantMediaLimits;
}

const meetingId = { type: 'string', min: 1, max: 200 } as const;
const participantId = { type: 'string', min: 1, max: 200 } as const;
const objectId = { type: 'string', min: 1, max: 100 } as const;
/** Another media node: its Moleculer node id. */
const peerNodeId = { type: 'string', min: 1, max: 200 } as const;
/** mediasoup checks the insides of these itself (and refuses what it cannot use). */
const mediaObject = { type: 'object' } as const;

const STATUS: Record<MediaError['code'], number> = {
  'not-found': 404, 'not-joined': 404, 'already-joined': 409, 'cannot-consume': 400, 'bad-request': 400, 'limit-reached': 403, closed: 410,
};

/** Media errors cross the cluster as client errors with their code as the type. */
function asApiError(err: unknown): unknown {
  if (err instanceof MediaError) return new ApiError(STATUS[err.code], err.message, `MEDIA_${err.code.toUpperCase().replace('-', '_')}`);
  return err;
}

type Params<T> = Context<T & { meetingId: string; participantId: string }>;
type LinkParams<T> = Context<T & { meetingId: string; peerNodeId: string }>;

export function createMediaService({ pool: poolOptions, listen, participantLimits }: MediaServiceOptions): ServiceSchema {
  let pool: WorkerPool;
  const meetings = new Map<string, Meeting>();

  const meeting = (id: string): Meeting => {
    const found = meetings.get(id);
    if (!found) throw new MediaError('not-found', `no meeting ${id} on this media node`);
    return found;
  };
  /** Runs a meeting operation; media errors become 4xx API errors. */
  const act = <T>(fn: () => T | Promise<T>): Promise<T> => Promise.resolve().then(fn).catch((err: unknown) => {
    throw asApiError(err);
  });

  return {
    name: 'media',

    actions: {
      /** This node's load, for placing a new meeting on the least-loaded media node. */
      load: {
        visibility: 'public',
        handler() {
          const workers = pool.workers().map((w) => ({ pid: w.pid, producers: w.producers, consumers: w.consumers, routers: w.routers }));
          return { meetings: meetings.size, load: workers.reduce((sum, w) => sum + w.producers + w.consumers, 0), workers };
        },
      },

      /** Opens the meeting on this node (idempotent); answers the routers' RTP capabilities. */
      open: {
        visibility: 'public',
        params: { meetingId, participantsPerRouter: { type: 'number', integer: true, min: 2, max: 1000, optional: true } },
        async handler(ctx: Context<{ meetingId: string; participantsPerRouter?: number }>) {
          let m = meetings.get(ctx.params.meetingId);
          if (!m) {
            m = await Meeting.create(ctx.params.meetingId, pool, listen, { participantsPerRouter: ctx.params.participantsPerRouter, participantLimits });
            meetings.set(m.id, m);
            const id = m.id;
            m.on('moved', (event) => void ctx.broker.broadcast('media.moved', { meetingId: id, ...event }));
            m.on('consumerClosed', (event) => void ctx.broker.broadcast('media.consumerClosed', { meetingId: id, ...event }));
            m.on('producerPaused', (event) => void ctx.broker.broadcast('media.producerPaused', { meetingId: id, ...event }));
            m.on('activeSpeaker', (event) => void ctx.broker.broadcast('media.activeSpeaker', { meetingId: id, ...event }));
            m.on('producerGone', (event) => void ctx.broker.broadcast('media.producerGone', { meetingId: id, ...event }));
            m.on('linksLost', (event) => void ctx.broker.broadcast('media.linksLost', { meetingId: id, ...event }));
            m.on('moveFailed', ({ fromPid, error }) => this.logger.error({ err: error, meetingId: id, fromPid }, 'a meeting could not move off a dead worker'));
          }
          return { meetingId: m.id, rtpCapabilities: m.rtpCapabilities };
        },
      },

      close: {
        visibility: 'public',
        params: { meetingId },
        handler(ctx: Context<{ meetingId: string }>) {
          meetings.get(ctx.params.meetingId)?.close();
          meetings.delete(ctx.params.meetingId);
          return null;
        },
      },

      join: {
        visibility: 'public',
        params: { meetingId, participantId, rtpCapabilities: { ...mediaObject, optional: true } },
        handler: (ctx: Params<{ rtpCapabilities?: object }>) =>
          act(async () => ({ rtpCapabilities: await meeting(ctx.params.meetingId).join(ctx.params.participantId, ctx.params.rtpCapabilities as never) })),
      },

      setRtpCapabilities: {
        visibility: 'public',
        params: { meetingId, participantId, rtpCapabilities: mediaObject },
        handler: (ctx: Params<{ rtpCapabilities: object }>) =>
          act(() => meeting(ctx.params.meetingId).setRtpCapabilities(ctx.params.participantId, ctx.params.rtpCapabilities as never) ?? null),
      },

      leave: {
        visibility: 'public',
        params: { meetingId, participantId },
        handler: (ctx: Params<object>) => act(() => meetings.get(ctx.params.meetingId)?.leave(ctx.params.participantId) ?? null),
      },

      createTransport: {
        visibility: 'public',
        params: { meetingId, participantId, kind: { type: 'enum', values: ['webrtc', 'plain'] }, direction: { type: 'enum', values: ['send', 'recv'], optional: true } },
        handler: (ctx: Params<{ kind: 'webrtc' | 'plain'; direction?: 'send' | 'recv' }>) =>
          act(() => meeting(ctx.params.meetingId).createTransport(ctx.params.participantId, ctx.params.kind, ctx.params.direction)),
      },

      connectTransport: {
        visibility: 'public',
        params: {
          meetingId, participantId, transportId: objectId,
          dtlsParameters: { ...mediaObject, optional: true }, ip: { type: 'string', max: 100, optional: true }, port: { type: 'number', integer: true, min: 1, max: 65535, optional: true },
        },
        handler: (ctx: Params<{ transportId: string; dtlsParameters?: object; ip?: string; port?: number }>) =>
          act(async () => {
            const { transportId, dtlsParameters, ip, port } = ctx.params;
            await meeting(ctx.params.meetingId).connectTransport(ctx.params.participantId, transportId, { dtlsParameters: dtlsParameters as never, ip, port });
            return null;
          }),
      },

      restartIce: {
        visibility: 'public',
        params: { meetingId, participantId, transportId: objectId },
        handler: (ctx: Params<{ transportId: string }>) =>
          act(async () => ({ iceParameters: await meeting(ctx.params.meetingId).restartIce(ctx.params.participantId, ctx.params.transportId) })),
      },

      produce: {
        visibility: 'public',
        params: { meetingId, participantId, transportId: objectId, kind: { type: 'enum', values: ['audio', 'video'] }, rtpParameters: mediaObject },
        handler: (ctx: Params<{ transportId: string; kind: 'audio' | 'video'; rtpParameters: object }>) =>
          act(async () => ({ producerId: await meeting(ctx.params.meetingId).produce(ctx.params.participantId, ctx.params.transportId, ctx.params.kind, ctx.params.rtpParameters as never) })),
      },

      consume: {
        visibility: 'public',
        params: { meetingId, participantId, transportId: objectId, producerId: objectId },
        handler: (ctx: Params<{ transportId: string; producerId: string }>) =>
          act(() => meeting(ctx.params.meetingId).consume(ctx.params.participantId, ctx.params.transportId, ctx.params.producerId)),
      },

      setConsumerPaused: {
        visibility: 'public',
        params: { meetingId, participantId, consumerId: objectId, paused: 'boolean' },
        handler: (ctx: Params<{ consumerId: string; paused: boolean }>) =>
          act(async () => {
            const m = meeting(ctx.params.meetingId);
            if (ctx.params.paused) await m.pauseConsumer(ctx.params.participantId, ctx.params.consumerId);
            else await m.resumeConsumer(ctx.params.participantId, ctx.params.consumerId);
            return null;
          }),
      },

      setProducerPaused: {
        visibility: 'public',
        params: { meetingId, participantId, producerId: objectId, paused: 'boolean' },
        handler: (ctx: Params<{ producerId: string; paused: boolean }>) =>
          act(async () => {
            await meeting(ctx.params.meetingId).setProducerPaused(ctx.params.participantId, ctx.params.producerId, ctx.params.paused);
            return null;
          }),
      },

      /** A host's mute of `participantId` (the caller checked that it is a host). */
      muteAudio: {
        visibility: 'public',
        params: { meetingId, participantId },
        handler: (ctx: Params<object>) => act(async () => ({ producerIds: await meeting(ctx.params.meetingId).muteAudio(ctx.params.participantId) })),
      },

      closeProducer: {
        visibility: 'public',
        params: { meetingId, participantId, producerId: objectId },
        handler: (ctx: Params<{ producerId: string }>) => act(() => meeting(ctx.params.meetingId).closeProducer(ctx.params.participantId, ctx.params.producerId) ?? null),
      },

      /** What everyone else in the meeting produces: what this participant may consume. */
      producers: {
        visibility: 'public',
        params: { meetingId, participantId },
        handler: (ctx: Params<object>) => act(() => meeting(ctx.params.meetingId).othersProducers(ctx.params.participantId)),
      },

      stats: {
        visibility: 'public',
        params: { meetingId, participantId, objectId },
        handler: (ctx: Params<{ objectId: string }>) => act(() => meeting(ctx.params.meetingId).stats(ctx.params.participantId, ctx.params.objectId)),
      },

      /** This node's end of the meeting's link to `peerNodeId` (made on first use). */
      linkEndpoint: {
        visibility: 'public',
        params: { meetingId, peerNodeId },
        handler: (ctx: LinkParams<object>) => act(() => meeting(ctx.params.meetingId).linkEndpoint(ctx.params.peerNodeId)),
      },

      /** Has the link send to the peer's end (its `linkEndpoint`). */
      connectLink: {
        visibility: 'public',
        params: { meetingId, peerNodeId, ip: { type: 'string', min: 1, max: 100 }, port: { type: 'number', integer: true, min: 1, max: 65535 } },
        handler: (ctx: LinkParams<{ ip: string; port: number }>) =>
          act(async () => {
            await meeting(ctx.params.meetingId).connectLink(ctx.params.peerNodeId, ctx.params.ip, ctx.params.port);
            return null;
          }),
      },

      /** Sends a producer of this node to the peer; the answer is what `pipeIn` there takes. */
      pipeOut: {
        visibility: 'public',
        params: { meetingId, peerNodeId, producerId: objectId },
        handler: (ctx: LinkParams<{ producerId: string }>) => act(() => meeting(ctx.params.meetingId).pipeOut(ctx.params.peerNodeId, ctx.params.producerId)),
      },

      /** Receives a producer of the peer (as its `pipeOut` answered), for participants here to consume. */
      pipeIn: {
        visibility: 'public',
        params: { meetingId, peerNodeId, producerId: objectId, participantId, kind: { type: 'enum', values: ['audio', 'video'] }, rtpParameters: mediaObject, paused: 'boolean' },
        handler: (ctx: LinkParams<{ producerId: string; participantId: string; kind: 'audio' | 'video'; rtpParameters: object; paused: boolean }>) =>
          act(async () => {
            const { producerId, participantId: owner, kind, rtpParameters, paused } = ctx.params;
            await meeting(ctx.params.meetingId).pipeIn(ctx.params.peerNodeId, { producerId, participantId: owner, kind, rtpParameters: rtpParameters as never, paused });
            return null;
          }),
      },
    },

    // What other media nodes report about their producers and links, for the copies here.
    // Every media node hears every meeting's events (and its own): only other nodes' events
    // about meetings open here concern it, and ids it does not know are ignored.
    events: {
      'media.producerGone': {
        handler(ctx: Context<{ meetingId: string; producerId: string }>) {
          if (ctx.nodeID !== ctx.broker.nodeID) meetings.get(ctx.params.meetingId)?.dropRemote(ctx.params.producerId);
        },
      },
      'media.producerPaused': {
        handler(ctx: Context<{ meetingId: string; producerId: string; paused: boolean }>) {
          if (ctx.nodeID === ctx.broker.nodeID) return;
          meetings.get(ctx.params.meetingId)?.setRemotePaused(ctx.params.producerId, ctx.params.paused).catch((err: unknown) =>
            this.logger.warn({ err, meetingId: ctx.params.meetingId, producerId: ctx.params.producerId }, 'a remote producer could not follow its pause'));
        },
      },
      'media.linksLost': {
        handler(ctx: Context<{ meetingId: string }>) {
          if (ctx.nodeID && ctx.nodeID !== ctx.broker.nodeID) meetings.get(ctx.params.meetingId)?.closeLink(ctx.nodeID);
        },
      },
      '$node.disconnected': {
        handler(ctx: Context<{ node: { id: string } }>) {
          for (const m of meetings.values()) m.closeLink(ctx.params.node.id);
        },
      },
    },

    async started() {
      pool = await WorkerPool.start({ ...poolOptions, logger: this.logger });
    },

    async stopped() {
      for (const m of meetings.values()) m.close();
      meetings.clear();
      await pool?.close();
    },
  };
}
