// The participant list, redrawn from each snapshot: name, host, muted, raised hand, who
// waits in the lobby, who is reconnecting; a host also gets per-participant mute and admit buttons.
import type { MeetingState, Participant } from './protocol.ts';

export interface RosterActions {
  mute(participantId: string): void;
  admit(participantId: string): void;
}

export function renderRoster(list: HTMLElement, state: MeetingState, selfId: string, actions: RosterActions): void {
  const self = state.participants.find((p) => p.id === selfId);
  const host = self?.host === true;
  list.replaceChildren(...state.participants.map((participant) => item(participant, participant.id === selfId, host, actions)));
}

function item(participant: Participant, isSelf: boolean, host: boolean, actions: RosterActions): HTMLElement {
  const li = document.createElement('li');
  li.dataset.participantId = participant.id;
  li.dataset.muted = String(participant.muted);
  li.dataset.hand = String(participant.handRaised);
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = isSelf ? `${participant.displayName} (you)` : participant.displayName;
  li.append(name);
  if (participant.host) li.append(tag('host'));
  else if (participant.coHost) li.append(tag('co-host'));
  if (participant.state === 'lobby') li.append(tag('in lobby'));
  if (participant.connected === false) li.append(tag('reconnecting'));
  if (participant.muted) li.append(tag('muted'));
  if (participant.handRaised) li.append(tag('hand raised'));
  if (host && !isSelf) {
    if (participant.state === 'lobby') li.append(button('Admit', () => actions.admit(participant.id)));
    else if (!participant.muted) li.append(button('Mute', () => actions.mute(participant.id)));
  }
  return li;
}

function tag(text: string): HTMLElement {
  const span = document.createElement('span');
  span.className = 'tag';
  span.textContent = text;
  return span;
}

export function button(label: string, onClick: () => void, className?: string): HTMLButtonElement {
  const element = document.createElement('button');
  element.type = 'button';
  element.textContent = label;
  if (className) element.className = className;
  element.addEventListener('click', onClick);
  return element;
}
