// The video tiles: ours, and one per other participant whose media we receive, each
// with the participant's name. A tile plays one MediaStream holding that participant's
// current tracks; it goes away with its last track.
interface Tile {
  element: HTMLElement;
  name: HTMLElement;
  video: HTMLVideoElement;
  stream: MediaStream;
}

export class VideoGrid {
  private readonly container: HTMLElement;
  private readonly tiles = new Map<string, Tile>();
  private readonly selfKey = 'self';

  constructor(container: HTMLElement) {
    this.container = container;
  }

  showSelf(stream: MediaStream, name: string): void {
    const tile = this.tile(this.selfKey, name);
    tile.element.classList.add('self');
    // Our own audio played back here would only echo.
    tile.video.muted = true;
    for (const track of stream.getVideoTracks()) tile.stream.addTrack(track);
  }

  addTrack(participantId: string, name: string, track: MediaStreamTrack): void {
    const tile = this.tile(participantId, name);
    tile.stream.addTrack(track);
    // Re-attached so the element picks up a track added after it started playing.
    tile.video.srcObject = tile.stream;
    void tile.video.play().catch(() => undefined);
  }

  removeTrack(participantId: string, track: MediaStreamTrack): void {
    const tile = this.tiles.get(participantId);
    if (!tile) return;
    tile.stream.removeTrack(track);
    if (tile.stream.getTracks().length === 0) {
      tile.element.remove();
      this.tiles.delete(participantId);
    }
  }

  /** Names may change (the roster is the truth); the active speaker is outlined. */
  update(names: Map<string, string>, activeSpeaker: string | null, selfId: string): void {
    for (const [key, tile] of this.tiles) {
      const id = key === this.selfKey ? selfId : key;
      const name = names.get(id);
      if (name !== undefined && key !== this.selfKey) tile.name.textContent = name;
      tile.element.classList.toggle('speaking', id === activeSpeaker);
    }
  }

  clear(): void {
    for (const tile of this.tiles.values()) tile.element.remove();
    this.tiles.clear();
  }

  private tile(key: string, name: string): Tile {
    const existing = this.tiles.get(key);
    if (existing) return existing;
    const element = document.createElement('figure');
    element.className = 'tile';
    element.dataset.participantId = key;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    const label = document.createElement('figcaption');
    label.className = 'name';
    label.textContent = name;
    const stream = new MediaStream();
    video.srcObject = stream;
    element.append(video, label);
    this.container.append(element);
    const tile = { element, name: label, video, stream };
    this.tiles.set(key, tile);
    return tile;
  }
}
