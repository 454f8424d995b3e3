// Headless Chromium (Debian's, installed by test/run.ts) driving the meeting page, with
// fake camera and microphone. Each MeetingPage is one participant: it opens
// /meet?meetingId=…#token=… and reads the page's test handle, `window.squared`.
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's package (test/run.ts installs it): Playwright's own browser download needs the internet. */
export const CHROMIUM = '/usr/bin/chromium';

/** What the page's handle shows of a meeting.state snapshot (docs/meetings.md). */
export interface PageParticipant {
  id: string;
  personId: string;
  displayName: string;
  host: boolean;
  state: 'joined' | 'lobby';
  muted: boolean;
  handRaised: boolean;
  mediaEpoch: number;
  producers: { id: string; kind: 'audio' | 'video'; paused: boolean }[];
  connected: boolean;
}

export interface PageState {
  meetingId: string;
  version: number;
  meeting: { id: string; title: string; state: string; locked: boolean; hostUserId: string };
  participants: PageParticipant[];
  activeSpeaker: string | null;
}

export interface PageSnapshot {
  phase: string;
  reason: string | undefined;
  participantId: string | undefined;
  state: PageState | undefined;
  /** Times the page took its place back after its live socket dropped. */
  reconnects: number;
}

export type InboundBytes = Record<string, { audioBytes: number; videoBytes: number }>;

/**
 * The base64 SHA-256 of the certificate's public key: Chromium then trusts exactly the
 * test server's self-signed certificate, where --ignore-certificate-errors would trust any.
 */
function spkiHash(ca: Buffer): string {
  const spki = new X509Certificate(ca).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

export async function launchBrowser(ca: Buffer): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); npm test does so when it runs as root`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium's sandbox refuses to run as root.
    chromiumSandbox: process.getuid?.() !== 0,
    args: [
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--ignore-certificate-errors-spki-list=${spkiHash(ca)}`,
      '--autoplay-policy=no-user-gesture-required',
      // Offline machine: without these, Chromium's own background connections are refused many at a time.
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run', '--disable-gpu',
    ],
  });
}

export class MeetingPage {
  readonly name: string;
  readonly page: Page;
  private readonly context: BrowserContext;
  /** The page's console and errors, for a failure message. */
  readonly log: string[] = [];

  private constructor(name: string, context: BrowserContext, page: Page) {
    this.name = name;
    this.context = context;
    this.page = page;
    page.on('console', (message) => this.log.push(`[${message.type()}] ${message.text()}`));
    page.on('pageerror', (err) => this.log.push(`[pageerror] ${err.message}`));
  }

  /** Opens a fresh browser context (its own storage) on `/meet`; with neither token nor meeting, the page asks for them. */
  static async open(browser: Browser, baseUrl: string, name: string, options: { token?: string; meetingId?: string } = {}): Promise<MeetingPage> {
    const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
    const page = await context.newPage();
    const meetingPage = new MeetingPage(name, context, page);
    const url = new URL('/meet', baseUrl);
    if (options.meetingId) url.searchParams.set('meetingId', options.meetingId);
    if (options.token) url.hash = `token=${encodeURIComponent(options.token)}`;
    const response = await page.goto(url.toString());
    if (response?.status() !== 200) throw new Error(`${name}: GET ${url.pathname} answered ${response?.status()}`);
    return meetingPage;
  }

  async snapshot(): Promise<PageSnapshot> {
    return this.page.evaluate(() => {
      const handle = (globalThis as any).squared;
      if (!handle) return { phase: 'loading', reason: undefined, participantId: undefined, state: undefined, reconnects: 0 };
      // A copy: the snapshot crosses into Node as JSON.
      return JSON.parse(JSON.stringify({ phase: handle.phase, reason: handle.reason, participantId: handle.participantId, state: handle.state, reconnects: handle.reconnects }));
    });
  }

  async participantId(): Promise<string> {
    const { participantId } = await this.snapshot();
    if (!participantId) throw new Error(`${this.name} has not joined`);
    return participantId;
  }

  /** Our own participant in our own latest snapshot. */
  async self(): Promise<PageParticipant | undefined> {
    const { participantId, state } = await this.snapshot();
    return state?.participants.find((p) => p.id === participantId);
  }

  async inbound(): Promise<InboundBytes> {
    return this.page.evaluate(async () => (await (globalThis as any).squared.stats()).inbound);
  }

  /** Waits until `condition` holds of the page's snapshot; a timeout names `what` and shows the page's state and console. */
  async waitFor(what: string, condition: (snapshot: PageSnapshot) => boolean, timeoutMs = 20_000): Promise<PageSnapshot> {
    let last: PageSnapshot | undefined;
    if (await poll(async () => condition((last = await this.snapshot())), timeoutMs)) return last!;
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${this.name}: ${what}\n${this.describe(last)}`);
  }

  /** Waits until the roster (the participants of the latest snapshot) satisfies `condition`. */
  waitForRoster(what: string, condition: (participants: PageParticipant[], selfId: string) => boolean, timeoutMs = 20_000): Promise<PageSnapshot> {
    return this.waitFor(what, (s) => s.phase === 'joined' && s.state !== undefined && s.participantId !== undefined && condition(s.state.participants, s.participantId), timeoutMs);
  }

  /** Waits until the bytes received from `fromParticipantId` satisfy `condition`. */
  async waitForInbound(what: string, fromParticipantId: string, condition: (bytes: { audioBytes: number; videoBytes: number }) => boolean, timeoutMs = 30_000): Promise<void> {
    let last: InboundBytes = {};
    if (await poll(async () => condition((last = await this.inbound())[fromParticipantId] ?? { audioBytes: 0, videoBytes: 0 }), timeoutMs)) return;
    const snapshot = await this.snapshot().catch(() => undefined);
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${this.name}: ${what}\ninbound: ${JSON.stringify(last)}\n${this.describe(snapshot)}`);
  }

  async leave(): Promise<void> {
    await this.page.evaluate(() => (globalThis as any).squared.leave());
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  describe(snapshot: PageSnapshot | undefined): string {
    return `${this.name}'s page: ${JSON.stringify(snapshot)}\n${this.name}'s console (last 20):\n  ${this.log.slice(-20).join('\n  ')}`;
  }
}

/** Checks `condition` every 250 ms (each check runs in the page: not too often) until it holds or time is up. */
async function poll(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}
