// The meeting page end to end: real Chromium pages (fake camera and microphone) join a
// meeting through the gateway, over the live socket and WebRTC to the mediasoup workers
// of a real Squared process. Each page must receive the others' audio and video, and keep
// receiving it: while people leave and join, when the host mutes someone over REST (audio
// stops, video goes on), and after the worker carrying the meeting is killed with SIGKILL
// (the pages set their media up again on another worker, as docs/meetings.md says).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { mediasoupWorkers, udpSockets } from '../harness/media-processes.ts';
import { launchBrowser, MeetingPage, type PageParticipant } from '../harness/browser.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { startTarget, type Target } from '../api/target.ts';

/** Bytes that must arrive in SAMPLE_MS for a stream to count as flowing (opus ≈ 4 kB/s, VP8 far more). */
const SAMPLE_MS = 2000;
const FLOWING = { audioBytes: 1500, videoBytes: 10_000 };
/** Audio of a paused producer: nothing at all, bar a packet already on its way. */
const STOPPED_AUDIO_BYTES = 400;

let target: Target;
let browser: Browser;

before(async () => {
  // Two workers: one carries the meeting, the other takes it over when the first is killed.
  target = await startTarget({ SQUARED_MEDIA_WORKERS: '2' });
  browser = await launchBrowser(target.ca);
});
after(async () => {
  await browser?.close();
  await target?.stop();
});

type Kind = 'audio' | 'video';

/** Samples twice, SAMPLE_MS apart, what `page` receives from `fromId`. */
async function received(page: MeetingPage, fromId: string): Promise<{ audioBytes: number; videoBytes: number }> {
  const zero = { audioBytes: 0, videoBytes: 0 };
  const first = (await page.inbound())[fromId] ?? zero;
  await sleep(SAMPLE_MS);
  const second = (await page.inbound())[fromId] ?? zero;
  return { audioBytes: second.audioBytes - first.audioBytes, videoBytes: second.videoBytes - first.videoBytes };
}

async function assertFlowing(page: MeetingPage, fromId: string, fromName: string, kinds: Kind[] = ['audio', 'video']): Promise<void> {
  const delta = await received(page, fromId);
  for (const kind of kinds) {
    const key = `${kind}Bytes` as const;
    assert.ok(delta[key] >= FLOWING[key], `${page.name} received only ${delta[key]} bytes of ${fromName}'s ${kind} in ${SAMPLE_MS} ms (want ≥ ${FLOWING[key]})`);
  }
}

/** Waits until `page` has consumed both of `fromId`'s streams and bytes arrive on each. */
async function waitForMedia(page: MeetingPage, fromId: string, fromName: string): Promise<void> {
  await page.waitForInbound(`audio and video bytes from ${fromName}`, fromId, (b) => b.audioBytes > 0 && b.videoBytes > 0);
  await assertFlowing(page, fromId, fromName);
}

const producer = (participant: PageParticipant | undefined, kind: Kind) => participant?.producers.find((p) => p.kind === kind);

// ---- which mediasoup worker carries the meeting -------------------------------------------

// ---- the page on its own -------------------------------------------------------------------

describe('the meeting page', () => {
  test('is served with a strict content security policy, its script cacheable by version', async () => {
    const page = await target.admin.get('/meet?meetingId=x', { token: null });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'/);
    const version = /\/meet\/app\.js\?v=([\w-]+)/.exec(page.text)?.[1];
    assert.ok(version, `the page names its versioned script:\n${page.text}`);
    const script = await target.admin.get(`/meet/app.js?v=${version}`, { token: null });
    assert.equal(script.status, 200);
    assert.match(String(script.headers['content-type']), /^text\/javascript/);
    assert.match(String(script.headers['cache-control']), /immutable/);
    assert.ok(script.text.length > 10_000, 'the bundle includes mediasoup-client');
    const unversioned = await target.admin.get('/meet/app.js', { token: null });
    assert.equal(unversioned.headers['cache-control'], 'no-cache');
  });

  test('in Chromium: asks for credentials when the URL has none, and gets the fake camera and microphone', async () => {
    const page = await MeetingPage.open(browser, target.url, 'Signed-out');
    try {
      await page.page.locator('#sign-in').waitFor({ state: 'visible', timeout: 10_000 });
      assert.ok(await page.page.locator('#meeting-id-field').isVisible(), 'asks for the meeting id too');
      const kinds = await page.page.evaluate(async () => {
        const stream = await (globalThis as any).navigator.mediaDevices.getUserMedia({ audio: true, video: true });
        const found = stream.getTracks().map((t: { kind: string }) => t.kind);
        for (const track of stream.getTracks()) track.stop();
        return found.sort();
      });
      assert.deepEqual(kinds, ['audio', 'video']);
      assert.deepEqual(page.log.filter((line) => /pageerror|Content Security Policy|Refused to/.test(line)), [], 'no script error, nothing blocked by the CSP');
    } finally {
      await page.close();
    }
  });

  test('signs in with email and password, says hello on the live socket and gets its join answered', async () => {
    const email = `signin.${randomUUID().slice(0, 8)}@example.com`;
    const password = `pw-${randomUUID()}`;
    const created = await target.admin.post('/v1/people', { emails: [email], displayName: 'Sign In', password });
    assert.equal(created.status, 200, created.text);
    const page = await MeetingPage.open(browser, target.url, 'Sign-in', { meetingId: `no-such-meeting-${randomUUID()}` });
    try {
      await page.page.fill('input[name=email]', email);
      await page.page.fill('input[name=password]', password);
      await page.page.click('#sign-in button[type=submit]');
      // An unknown meeting: the server's refusal of the join proves sign-in, hello/ready and the request round trip.
      const snapshot = await page.waitFor('the join of an unknown meeting to be refused', (s) => s.phase === 'failed');
      assert.match(snapshot.reason ?? '', /^Could not join: /);
      assert.doesNotMatch(snapshot.reason ?? '', /sign-in refused|live socket|not answered/, page.describe(snapshot));
    } finally {
      await page.close();
    }
  });
});

// ---- a meeting -----------------------------------------------------------------------------

describe('a meeting through the gateway, in Chromium', () => {
  let host: TestPerson;
  let guest: TestPerson;
  let third: TestPerson;
  let meetingId: string;
  const pages: MeetingPage[] = [];
  let hostPage: MeetingPage;
  let guestPage: MeetingPage;
  let thirdPage: MeetingPage;
  let hostId: string;
  let thirdId: string;

  /** Opens `person`'s page and waits until they are in the meeting (admitted by the host if they land in the lobby). */
  async function join(person: TestPerson): Promise<{ page: MeetingPage; participantId: string }> {
    const page = await MeetingPage.open(browser, target.url, person.displayName, { token: person.token, meetingId });
    pages.push(page);
    const entered = await page.waitFor('joined or in the lobby', (s) => s.phase === 'joined' || s.phase === 'lobby');
    const participantId = entered.participantId!;
    if (entered.phase === 'lobby' && person !== host) {
      await hostPage.page.locator(`#roster li[data-participant-id="${participantId}"] button`, { hasText: 'Admit' }).click({ timeout: 10_000 });
      await page.waitFor('admitted from the lobby', (s) => s.phase === 'joined');
    }
    return { page, participantId };
  }

  before(async () => {
    [host, guest, third] = await createPeople(target.admin, 'Hana Host', 'Gus Guest', 'Tess Third');
    const start = new Date(Date.now() + 60_000);
    const created = await host.api.post('/v1/meetings', { title: `e2e ${randomUUID().slice(0, 8)}`, start: start.toISOString(), end: new Date(start.getTime() + 3_600_000).toISOString() });
    assert.equal(created.status, 200, created.text);
    meetingId = created.body.id;
    assert.equal(created.body.hostUserId, host.id);
  });
  after(async () => {
    for (const page of pages) await page.close().catch(() => undefined);
  });

  test('host and guest each receive the other\'s audio and video, and keep receiving it', async () => {
    ({ page: hostPage, participantId: hostId } = await join(host));
    const { page, participantId: guestId } = await join(guest);
    guestPage = page;
    await hostPage.waitForRoster('the guest in the roster with audio and video', (ps) => ps.some((p) => p.id === guestId && p.producers.length === 2));
    await waitForMedia(hostPage, guestId, 'the guest');
    await waitForMedia(guestPage, hostId, 'the host');
    // The second sample: still rising.
    await assertFlowing(hostPage, guestId, 'the guest');
    await assertFlowing(guestPage, hostId, 'the host');
    assert.doesNotMatch(hostPage.page.url(), /token=/, 'the page takes the token out of its address (a copied link must not carry it)');
    const hostSelf = await hostPage.self();
    assert.equal(hostSelf?.host, true, 'the meeting\'s creator is its host');
    assert.equal(await hostPage.page.locator('#videos figure.tile').count(), 2, 'the host page shows its own video and the guest\'s');
  });

  test('the guest leaves: the host\'s roster and videos drop it', async () => {
    const guestId = await guestPage.participantId();
    await guestPage.leave();
    await guestPage.waitFor('the page to say it left', (s) => s.phase === 'left', 10_000);
    await hostPage.waitForRoster('the guest gone from the roster', (ps) => !ps.some((p) => p.id === guestId), 10_000);
    await hostPage.page.locator(`#roster li[data-participant-id="${guestId}"]`).waitFor({ state: 'detached', timeout: 10_000 });
    await hostPage.page.locator(`#videos [data-participant-id="${guestId}"]`).waitFor({ state: 'detached', timeout: 10_000 });
  });

  test('a third participant joins; the host mutes it over REST: its audio producer is paused and its audio stops, its video goes on', async () => {
    ({ page: thirdPage, participantId: thirdId } = await join(third));
    await waitForMedia(hostPage, thirdId, 'the third participant');
    await waitForMedia(thirdPage, hostId, 'the host');

    const listed = await host.api.get(`/v1/meetingParticipants?meetingId=${encodeURIComponent(meetingId)}`);
    assert.equal(listed.status, 200, listed.text);
    const restThird = (listed.body.items as { id: string; displayName: string }[]).find((p) => p.displayName === third.displayName);
    assert.ok(restThird, `the third participant is listed: ${listed.text}`);
    const muted = await host.api.put(`/v1/meetingParticipants/${encodeURIComponent(restThird.id)}`, { muted: true });
    assert.equal(muted.status, 200, muted.text);

    await hostPage.waitForRoster('the third participant\'s audio producer paused', (ps) => {
      const p = ps.find((q) => q.id === thirdId);
      return p?.muted === true && producer(p, 'audio')?.paused === true;
    }, 10_000);
    assert.equal(producer((await hostPage.snapshot()).state!.participants.find((p) => p.id === thirdId), 'video')?.paused, false, 'a mute leaves video alone');
    await sleep(500); // what was already on its way
    const delta = await received(hostPage, thirdId);
    assert.ok(delta.audioBytes <= STOPPED_AUDIO_BYTES, `the muted participant's audio still arrives at the host: ${delta.audioBytes} bytes in ${SAMPLE_MS} ms`);
    assert.ok(delta.videoBytes >= FLOWING.videoBytes, `the muted participant's video should go on: ${delta.videoBytes} bytes in ${SAMPLE_MS} ms`);
    await thirdPage.waitFor('its own page to show it muted', (s) => s.state?.participants.find((p) => p.id === thirdId)?.muted === true, 10_000);
  });

  test('the muted participant unmutes itself with its button: its audio flows again', async () => {
    await thirdPage.page.getByRole('button', { name: 'Unmute', exact: true }).click({ timeout: 10_000 });
    await hostPage.waitForRoster('the third participant\'s audio producer resumed', (ps) => {
      const p = ps.find((q) => q.id === thirdId);
      return p?.muted === false && producer(p, 'audio')?.paused === false;
    }, 10_000);
    await assertFlowing(hostPage, thirdId, 'the unmuted participant', ['audio']);
  });

  test('the worker carrying the meeting is killed with SIGKILL: every page\'s mediaEpoch grows and media flows again', async () => {
    assert.ok(target.process, 'the worker kill needs the embedded mode: one Squared process whose children are the workers');
    const squaredPid = target.process.child.pid!;
    const workers = mediasoupWorkers(squaredPid);
    assert.equal(workers.length, 2, `Squared (pid ${squaredPid}) runs SQUARED_MEDIA_WORKERS=2 mediasoup workers: found ${JSON.stringify(workers)}`);
    const busy = workers.filter((pid) => udpSockets(pid) > 0);
    assert.equal(busy.length, 1, `exactly one worker holds the meeting's transports (UDP sockets per worker: ${JSON.stringify(workers.map((pid) => [pid, udpSockets(pid)]))})`);
    const epochs = { host: (await hostPage.self())!.mediaEpoch, third: (await thirdPage.self())!.mediaEpoch };

    process.kill(busy[0], 'SIGKILL');

    await hostPage.waitFor('the host\'s mediaEpoch to grow', (s) => (s.state?.participants.find((p) => p.id === hostId)?.mediaEpoch ?? -1) > epochs.host, 30_000);
    await thirdPage.waitFor('the third participant\'s mediaEpoch to grow', (s) => (s.state?.participants.find((p) => p.id === thirdId)?.mediaEpoch ?? -1) > epochs.third, 30_000);
    await waitForMedia(hostPage, thirdId, 'the third participant (after the move)');
    await waitForMedia(thirdPage, hostId, 'the host (after the move)');
    assert.ok(mediasoupWorkers(squaredPid).every((pid) => pid !== busy[0]), 'the killed worker is gone');
  });

  test('the host ends the meeting: every page stops', async () => {
    await hostPage.page.getByRole('button', { name: 'End meeting', exact: true }).click({ timeout: 10_000 });
    await thirdPage.waitFor('the meeting to end on the third participant\'s page', (s) => s.phase === 'ended', 10_000);
    await hostPage.waitFor('the meeting to end on the host\'s page', (s) => s.phase === 'ended', 10_000);
    assert.equal(await thirdPage.page.locator('#videos video').count(), 0, 'no video left on the page');
  });
});
