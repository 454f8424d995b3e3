// The shared bounds of the org usage figures (GET /v1/organizations/{orgId}/usage, docs/admin.md):
// the people actor gathers the org's people and asks the owners of the other figures about them.

/** The people of an org a usage answer looks at; beyond it the answer says `complete: false`. */
export const USAGE_MAX_PEOPLE = 2000;
/** Activities of the rooms' logs one answer reads for its messages per day (the rooms actor). */
export const USAGE_MAX_ACTIVITIES = 50_000;
/** Meetings one answer reads the participants of (the conferences actor). */
export const USAGE_MAX_MEETINGS = 1000;
/** The most days of messages per day one answer covers. */
export const USAGE_MAX_DAYS = 30;
