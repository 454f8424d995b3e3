// What of the rooms a person may search (the rooms actor's `searchReachOf`, asked by the search
// actor): the rooms they are a member of, whole, and the rooms they left, each up to the last
// seq before they left (docs/search.md, "Who finds what").

export interface SearchReach {
  /** The rooms the person is a member of now: their whole history. */
  rooms: string[];
  /** roomId → the last seq before the person left it; never a room of `rooms`. */
  departed: Record<string, number>;
}
