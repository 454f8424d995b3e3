// The calls the notifications actor makes to each gateway for one message: one frame per
// distinct notification with the ids of its people, at most 2000 ids per call, every
// person exactly once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NotificationFrame } from '../../contracts/live-frames.ts';
import { groupsOf } from '../../actors/notifications/live-notifications.ts';

const frame = (kind: NotificationFrame['kind'], silent?: boolean): NotificationFrame => ({
  type: 'notification', kind, roomId: 'r', messageId: 'm', actorId: 'a', created: '2026-01-01T00:00:00.000Z', preview: 'hi', ...(silent ? { silent } : {}),
});

test('people sharing a frame share one group; calls hold at most 2000 people; everyone once', () => {
  const notifications = [
    ...Array.from({ length: 4500 }, (_, i) => ({ personId: `p${i}`, frame: frame('mention') })),
    { personId: 'quiet', frame: frame('mention', true) },
    { personId: 'other', frame: frame('direct') },
  ];
  const calls = groupsOf(notifications);
  assert.deepEqual(calls.map((call) => call.reduce((n, g) => n + g.personIds.length, 0)), [2000, 2000, 502]);
  const seen = calls.flat().flatMap((g) => g.personIds.map((id) => `${id}:${g.frame.kind}:${g.frame.silent ?? false}`));
  assert.equal(new Set(seen).size, notifications.length);
  assert.ok(seen.includes('quiet:mention:true'));
  assert.ok(seen.includes('other:direct:false'));
  assert.equal(calls.flat().length, 5, 'the mention frame split over three calls, and the two others');
  assert.deepEqual(groupsOf([]), []);
});
