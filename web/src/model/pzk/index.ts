// The PZK document's TypeScript twin (sync-core/src/model/pzk): the team, the agreement, the
// work plan, the services list, the 9.2 decision and the recommendations; the meetings are in
// `meetings.ts` (exported as `Meetings` by the model's index).

export * from "./common.ts"
export * from "./team.ts"
export * from "./agreement.ts"
export * from "./work.ts"
export * from "./read.ts"
