// Errors of the media plane that a client caused: an id that is not one of its own, a
// request that does not fit the meeting's state, one object more than a participant may
// hold. They carry a code for the signaling layer and never disturb the meeting.
export type MediaErrorCode = 'not-found' | 'not-joined' | 'already-joined' | 'cannot-consume' | 'bad-request' | 'limit-reached' | 'closed';

export class MediaError extends Error {
  readonly code: MediaErrorCode;

  constructor(code: MediaErrorCode, message: string) {
    super(message);
    this.name = 'MediaError';
    this.code = code;
  }
}
