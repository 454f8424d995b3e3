// A meeting's links to the same meeting on other media nodes. The Meeting of the same id on
// another node is a peer, reached through a link: a PipeTransport on the home router, one
// per peer. A local producer is piped out into the link (`pipeOut`), and the peer produces
// it with the same id (`pipeIn`) as a remote producer that its participants consume like a
// local one. What happens to a producer on its own node (closed, paused, a worker died)
// reaches the peers through the signaling layer, which calls `dropRemote`,
// `setRemotePaused` and `closeLink` here.
import type { types } from 'mediasoup';
import { MediaError } from './media-error.ts';
import type { MeetingRouters, RouterSlot } from './meeting-routers.ts';
import { announcedIp, listenInfo, type LinkEndpoint, type ListenSettings, type PipedProducer } from './meeting-types.ts';

/** A PipeTransport on the home router to the same meeting on a peer node. */
interface Link {
  transport: Promise<types.PipeTransport>;
  /** The address asked for by `connect`, claimed before the worker confirms it. */
  target?: { ip: string; port: number; done: Promise<void> };
  connectedTo?: { ip: string; port: number };
  /** Local producers consumed into the link, by producer id. */
  out: Map<string, Promise<types.Consumer>>;
}

/** A producer of a peer node, produced on its link (on the home router) with the same id. */
interface RemoteProducer {
  peer: string;
  participantId: string;
  producer: Promise<types.Producer>;
}

/** Where a local participant's producer is, and whose it is. */
export type LocalProducerFinder = (producerId: string) => { slot: RouterSlot; participantId: string } | undefined;

export class MeetingLinks {
  private readonly routers: MeetingRouters;
  private readonly listen: ListenSettings;
  private readonly localProducer: LocalProducerFinder;
  /** Links to peer nodes, by the peer's node id. */
  private readonly links = new Map<string, Link>();
  /** Producers of peers produced here, by producer id. */
  private readonly remotes = new Map<string, RemoteProducer>();

  constructor(routers: MeetingRouters, listen: ListenSettings, localProducer: LocalProducerFinder) {
    this.routers = routers;
    this.listen = listen;
    this.localProducer = localProducer;
  }

  /** This node's end of the link to `peer` (made on first use). */
  async endpoint(peer: string): Promise<LinkEndpoint> {
    let link = this.links.get(peer);
    if (!link) {
      // RTX on both ends: between hosts, packets get lost.
      const created: Link = { transport: this.routers.home.router.createPipeTransport({ listenInfo: listenInfo(this.listen, 'udp'), enableRtx: true, appData: { peer } }), out: new Map() };
      created.transport.catch(() => this.links.get(peer) === created && this.links.delete(peer));
      this.links.set(peer, created);
      link = created;
    }
    const transport = await link.transport;
    return { ip: announcedIp(this.listen), port: transport.tuple.localPort, ...(link.connectedTo ? { connectedTo: { ...link.connectedTo } } : {}) };
  }

  /** Has the link to `peer` send to the peer's end. Asking again for the same address is harmless. */
  async connect(peer: string, ip: string, port: number): Promise<void> {
    const link = this.links.get(peer);
    if (!link) throw new MediaError('bad-request', `no link to ${peer}: ask for its endpoint first`);
    if (link.target) {
      if (link.target.ip !== ip || link.target.port !== port) throw new MediaError('bad-request', `the link to ${peer} is connected to ${link.target.ip}:${link.target.port}, not ${ip}:${port}`);
      return link.target.done;
    }
    const done = link.transport.then((transport) => transport.connect({ ip, port })).then(
      () => void (link.connectedTo = { ip, port }),
      (err: unknown) => {
        if (link.target?.done === done) link.target = undefined;
        throw new MediaError('bad-request', `cannot connect the link to ${peer}: ${(err as Error).message}`);
      },
    );
    link.target = { ip, port, done };
    return done;
  }

  /** Sends a local participant's producer into the link to `peer`; answers what the peer needs for `pipeIn`. */
  async pipeOut(peer: string, producerId: string): Promise<PipedProducer> {
    const link = this.links.get(peer);
    if (!link) throw new MediaError('not-found', `no link to ${peer}`);
    const owner = this.localProducer(producerId);
    if (!owner) throw new MediaError('not-found', `no producer ${producerId} of a participant on this node`);
    let consumer = link.out.get(producerId);
    if (!consumer) {
      const consuming = Promise.all([this.routers.pipe(owner.slot, this.routers.home, producerId), link.transport])
        .then(([idAtHome, transport]) => transport.consume({ producerId: idAtHome }))
        .catch((err: unknown) => {
          throw new MediaError('not-found', `cannot pipe producer ${producerId} to ${peer}: ${(err as Error).message}`);
        });
      const forget = () => link.out.get(producerId) === consuming && link.out.delete(producerId);
      consuming.then((c) => c.observer.once('close', forget), forget);
      link.out.set(producerId, consuming);
      consumer = consuming;
    }
    const piped = await consumer;
    return { producerId, participantId: owner.participantId, kind: piped.kind, rtpParameters: piped.rtpParameters, paused: piped.producerPaused };
  }

  /**
   * Produces a peer's producer (as `pipeOut` there answered) on the link from it, with the
   * same id: a remote producer, which local participants consume like their own.
   */
  async pipeIn(peer: string, piped: PipedProducer): Promise<void> {
    const { producerId, participantId, kind, rtpParameters, paused } = piped;
    const link = this.links.get(peer);
    if (!link) throw new MediaError('not-found', `no link to ${peer}`);
    const known = this.remotes.get(producerId);
    if (known && known.peer !== peer) throw new MediaError('bad-request', `producer ${producerId} comes from ${known.peer}, not ${peer}`);
    if (known) {
      await known.producer;
      return;
    }
    if (this.localProducer(producerId)) throw new MediaError('bad-request', `producer ${producerId} is produced here`);
    const forget = () => this.remotes.get(producerId)?.producer === producing && this.remotes.delete(producerId);
    const producing = link.transport
      .then((transport) => transport.produce({ id: producerId, kind, rtpParameters, paused, appData: { participantId, peer } }))
      .then((producer) => {
        producer.observer.once('close', forget);
        return producer;
      }, (err: unknown) => {
        forget();
        throw new MediaError('bad-request', `cannot pipe in producer ${producerId} from ${peer}: ${(err as Error).message}`);
      });
    this.remotes.set(producerId, { peer, participantId, producer: producing });
    await producing;
  }

  /** The participant (at a peer) whose remote producer this is, once it is produced here. */
  async remoteOwner(producerId: string): Promise<string> {
    const remote = this.remotes.get(producerId);
    if (!remote) throw new MediaError('not-found', `no producer ${producerId} in this meeting`);
    try {
      await remote.producer;
    } catch {
      throw new MediaError('not-found', `no producer ${producerId} in this meeting`);
    }
    return remote.participantId;
  }

  /**
   * Closes a remote producer (its producer at the peer is gone). Unknown ids are ignored:
   * every node hears of every producer that goes, piped here or not.
   */
  dropRemote(producerId: string): void {
    const remote = this.remotes.get(producerId);
    if (!remote) return;
    this.remotes.delete(producerId);
    void remote.producer.then((producer) => producer.close(), () => undefined);
  }

  /** Follows the pause of a remote producer at its node; unknown ids are ignored (as above). */
  async setRemotePaused(producerId: string, paused: boolean): Promise<void> {
    const remote = this.remotes.get(producerId);
    if (!remote) return;
    const producer = await remote.producer;
    if (paused) await producer.pause();
    else await producer.resume();
  }

  /** Closes the link to `peer`: what came through it and what was sent into it. */
  closeLink(peer: string): void {
    const link = this.links.get(peer);
    if (!link) return;
    this.links.delete(peer);
    for (const [producerId, remote] of this.remotes) if (remote.peer === peer) this.remotes.delete(producerId);
    void link.transport.then((transport) => transport.close(), () => undefined);
  }

  /** The peers this meeting has a link to. */
  peers(): string[] {
    return [...this.links.keys()];
  }

  /** The home router died, and every link and remote producer with it: forgets them; answers the peers. */
  forgetAll(): string[] {
    const peers = this.peers();
    this.links.clear();
    this.remotes.clear();
    return peers;
  }
}
