// The meeting page's entry point: find the credentials, join, and expose a small handle
// for the end-to-end tests (test/harness/browser.ts reads it).
import { MeetingClient } from './meeting.ts';
import { PageView } from './page-view.ts';
import type { InboundBytes } from './media.ts';
import type { MeetingState } from './protocol.ts';
import { askForCredentials, credentialsFromUrl, type Credentials } from './sign-in.ts';

export interface SquaredPageHandle {
  readonly state: MeetingState | undefined;
  readonly participantId: string | undefined;
  readonly phase: MeetingClient['phase'];
  readonly reason: string | undefined;
  /** Times the page took its place back after its live socket dropped. */
  readonly reconnects: number;
  stats(): Promise<{ inbound: Record<string, InboundBytes> }>;
  leave(): Promise<void>;
  /** Host only: mutes another participant over the live socket. */
  mute(participantId: string): Promise<void>;
}

declare global {
  interface Window {
    squared?: SquaredPageHandle;
  }
}

async function main(): Promise<void> {
  const view = new PageView(document);
  const known = credentialsFromUrl();
  const credentials: Credentials = known.token && known.meetingId ? { token: known.token, meetingId: known.meetingId } : await askForCredentials(view.signInForm, known);
  const client = new MeetingClient(view);
  window.squared = {
    get state() { return client.state; },
    get participantId() { return client.participantId; },
    get phase() { return client.phase; },
    get reason() { return client.reason; },
    get reconnects() { return client.reconnects; },
    stats: async () => ({ inbound: await client.inboundBytes() }),
    leave: () => client.leave(),
    mute: (participantId) => client.hostMute(participantId),
  };
  await client.join(credentials);
}

void main();
