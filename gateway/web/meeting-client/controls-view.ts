// The button bar, redrawn from each snapshot so every label says what a click will do:
// leave, hand, own microphone; for the host also mute all, lock and end.
import type { MeetingState } from './protocol.ts';
import { button } from './roster-view.ts';

export interface ControlActions {
  leave(): void;
  setHand(raised: boolean): void;
  setMuted(muted: boolean): void;
  muteAll(): void;
  setLocked(locked: boolean): void;
  end(): void;
}

export function renderControls(nav: HTMLElement, state: MeetingState, selfId: string, actions: ControlActions): void {
  const self = state.participants.find((p) => p.id === selfId);
  const buttons = [button('Leave', () => actions.leave(), 'danger')];
  if (self?.state === 'joined') {
    buttons.push(
      button(self.handRaised ? 'Lower hand' : 'Raise hand', () => actions.setHand(!self.handRaised)),
      button(self.muted ? 'Unmute' : 'Mute', () => actions.setMuted(!self.muted)),
    );
    if (self.host) {
      buttons.push(
        button('Mute all', () => actions.muteAll()),
        button(state.meeting.locked ? 'Unlock meeting' : 'Lock meeting', () => actions.setLocked(!state.meeting.locked)),
        button('End meeting', () => actions.end(), 'danger'),
      );
    }
  }
  nav.replaceChildren(...buttons);
}
