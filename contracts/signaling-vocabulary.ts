// The actions of meeting signaling (docs/meetings.md): shared by the gateway, which
// validates each frame, and the conferences actor, which carries it out.
export const SIGNALING_ACTIONS = [
  'join', 'leave', 'setRtpCapabilities', 'createTransport', 'connectTransport', 'restartIce', 'produce', 'consume',
  'resumeConsumer', 'pauseConsumer', 'pauseProducer', 'resumeProducer', 'closeProducer', 'raiseHand', 'lowerHand',
  'lock', 'unlock', 'end', 'muteAll', 'lowerHands', 'mute', 'expel', 'admit',
] as const;
export type SignalingAction = (typeof SIGNALING_ACTIONS)[number];
