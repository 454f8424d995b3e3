// Records as the REST API and the live stream show them: internal fields dropped, and
// fields without a value left out.
import type { MembershipRecord, MessageRecord, RoomRecord } from '../../storage/records.ts';
import { withValues } from '../present.ts';

export function presentRoom(room: RoomRecord, viewerId?: string): Record<string, unknown> {
  // A direct room is titled, for each of its two members, with the other one's name.
  const other = room.directNames && Object.entries(room.directNames).find(([id]) => id !== viewerId);
  return withValues({
    id: room.id,
    title: other ? other[1] : room.title,
    type: room.type,
    isLocked: room.isLocked,
    isAnnouncementOnly: room.isAnnouncementOnly,
    isReadOnly: room.isReadOnly,
    isPublic: room.isPublic,
    description: room.description,
    teamId: room.teamId,
    classificationId: room.classificationId,
    lastActivity: room.lastActivity,
    creatorId: room.creatorId,
    created: room.created,
  });
}

export function presentMembership(m: MembershipRecord): Record<string, unknown> {
  return withValues({
    id: m.id,
    roomId: m.roomId,
    personId: m.personId,
    personEmail: m.personEmail,
    personDisplayName: m.personDisplayName,
    personOrgId: m.personOrgId,
    isModerator: m.isModerator,
    isRoomHidden: m.isRoomHidden,
    isMonitor: m.isMonitor,
    roomType: m.roomType,
    created: m.created,
  });
}

export function presentMessage(m: MessageRecord): Record<string, unknown> {
  return withValues({
    id: m.id,
    parentId: m.parentId,
    roomId: m.roomId,
    roomType: m.roomType,
    toPersonId: m.toPersonId,
    toPersonEmail: m.toPersonEmail,
    text: m.text,
    markdown: m.markdown,
    html: m.html,
    files: m.files,
    attachments: m.attachments,
    personId: m.personId,
    personEmail: m.personEmail,
    mentionedPeople: m.mentionedPeople,
    mentionedGroups: m.mentionedGroups,
    created: m.created,
    updated: m.updated,
    filePreviews: presentFilePreviews(m),
  });
}

/**
 * The Squared extension `filePreviews` (docs/previews.md): per file whose preview job ran, its
 * `file` (the URL in `files`), the state, and for an image the URL of the preview image
 * beside the file's own (`…/v1/contents/{id}/preview`, members only, as the file is).
 */
function presentFilePreviews(m: MessageRecord): Record<string, unknown>[] | undefined {
  if (!m.filePreviews?.length) return undefined;
  return m.filePreviews.flatMap(({ contentId, ...preview }) => {
    const file = m.files?.find((url) => url.endsWith(`/contents/${contentId}`));
    if (!file) return [];
    const image = preview.state === 'ready' && preview.kind !== 'text';
    return [withValues({ file, ...preview, url: image ? `${file}/preview` : undefined })];
  });
}

/** What members learn of a deleted message: that it existed, not what it said. */
export function presentDeletedMessage(m: MessageRecord): Record<string, unknown> {
  return withValues({ id: m.id, roomId: m.roomId, roomType: m.roomType, personId: m.personId, personEmail: m.personEmail, created: m.created });
}
