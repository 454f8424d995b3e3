// Events of the people actor that other actors act on.

/**
 * Every token of a person was revoked (a password change, the loss of the administrator role,
 * an operator's revoke): no browser is signed in as them any more, so what was tied to their
 * sessions there — their Web Push subscriptions — goes too. Payload: `{ personId }`.
 */
export const TOKENS_REVOKED = 'people.tokensRevoked';
