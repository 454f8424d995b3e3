// The page's elements and what is drawn into them from a snapshot.
import { renderControls, type ControlActions } from './controls-view.ts';
import type { MeetingState } from './protocol.ts';
import { renderRoster, type RosterActions } from './roster-view.ts';
import { VideoGrid } from './video-view.ts';

export class PageView {
  readonly videos: VideoGrid;
  readonly signInForm: HTMLFormElement;
  private readonly title: HTMLElement;
  private readonly statusLine: HTMLElement;
  private readonly meeting: HTMLElement;
  private readonly roster: HTMLElement;
  private readonly controls: HTMLElement;

  constructor(doc: Document) {
    const byId = <T extends HTMLElement>(id: string) => {
      const element = doc.getElementById(id);
      if (!element) throw new Error(`the page has no #${id}`);
      return element as T;
    };
    this.title = byId('title');
    this.statusLine = byId('status');
    this.signInForm = byId<HTMLFormElement>('sign-in');
    this.meeting = byId('meeting');
    this.roster = byId('roster');
    this.controls = byId('controls');
    this.videos = new VideoGrid(byId('videos'));
  }

  status(text: string): void {
    this.statusLine.textContent = text;
  }

  render(state: MeetingState, selfId: string, actions: RosterActions & ControlActions): void {
    this.meeting.hidden = false;
    this.title.textContent = state.meeting.title + (state.meeting.locked ? ' (locked)' : '');
    document.title = `${state.meeting.title} – Squared`;
    renderRoster(this.roster, state, selfId, actions);
    renderControls(this.controls, state, selfId, actions);
    this.videos.update(new Map(state.participants.map((p) => [p.id, p.displayName])), state.activeSpeaker, selfId);
  }

  /** After the meeting is over for us: nothing left to click but a reload. */
  closeMeeting(): void {
    this.videos.clear();
    this.roster.replaceChildren();
    this.controls.replaceChildren();
  }
}
