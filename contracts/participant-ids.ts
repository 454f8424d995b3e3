// Participant ids are `<meetingId>_<32 hex>`, like Webex's: the meeting is read from the
// id, which routes a participant's calls to its meeting's owner without a lookup.
export const meetingOf = (participantId: string) => participantId.split('_')[0];
