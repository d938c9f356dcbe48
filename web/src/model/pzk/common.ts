// What every edit of the PZK document shares (sync-core/src/model/pzk/types.rs and layout.rs):
// its closed sets of values, the change message naming the editor's login alone, and the checks
// before an edit (a model step, a month of the plan, a map of the document).

import * as A from "@automerge/automerge/slim"

import { checkId, type Edit, type Editor } from "../editor.ts"
import { ModelError, fieldError } from "../errors.ts"
import { open } from "../header.ts"
import * as R from "../reader.ts"
import type { PzkDoc } from "./meetings.ts"

export type { PzkDoc }
export type Obj = Record<string, unknown>

export const SECTORS = [
  "social_assistance",
  "education",
  "health",
  "police",
  "justice",
  "crisis_intervention",
  "day_centre",
  "culture",
  "labour_market",
  "ngo",
  "other",
] as const
export const MEMBER_ROLES = ["lead", "member", "leader", "adviser"] as const
export const MILESTONE_STATUSES = ["planned", "in_progress", "done", "cancelled"] as const
export const AGREEMENT_STATUSES = ["draft", "signed", "terminated"] as const
export const TEAM_DECISIONS = ["continue", "end"] as const
export const RECOMMENDATION_CATEGORIES = ["legal", "organisational", "services"] as const

export type InstitutionSector = (typeof SECTORS)[number]
export type MemberRole = (typeof MEMBER_ROLES)[number]
export type MilestoneStatus = (typeof MILESTONE_STATUSES)[number]
export type AgreementStatus = (typeof AGREEMENT_STATUSES)[number]
export type TeamDecision = (typeof TEAM_DECISIONS)[number]
export type RecommendationCategory = (typeof RECOMMENDATION_CATEGORIES)[number]

/** The months of the work plan: the model's 18 and as many more as a schedule runs, to ten years. */
export const FIRST_MONTH = 1
export const LAST_MONTH = 120

/** A scalar string as stored. */
export const scalar = (value: string) => new A.ImmutableString(value)

/** A PZK change's message: the summary and the author's login alone, as Rust writes it. */
export function pzkEdit(what: string, by: Editor, at: Date, apply: (doc: PzkDoc) => void): Edit<PzkDoc> {
  const line = (t: string) => t.replace(/[\r\n]+/g, " ")
  return { message: `${line(what)}\n\nAuthor: ${line(by.login)}`, time: Math.floor(at.getTime() / 1000), apply }
}

/** The map at `key` of the document's root, after checking it is a PZK document. */
export function pzkMap(doc: PzkDoc, key: string): Obj {
  open(doc, "pzk")
  return R.map(doc, key, "")
}

/** The map at `path` (keys from the root) inside a change. */
export function at(doc: PzkDoc, ...path: string[]): Obj {
  let obj = doc as Obj
  for (const key of path) obj = obj[key] as Obj
  return obj
}

/**
 * Writes the scalar string at `obj[key]` unless the entry exists and holds it already (as Rust's
 * `Fields::put`: an unchanged field adds no operation).
 */
export function putStr(obj: Obj, key: string, current: string | undefined, value: string): void {
  if (current !== value) obj[key] = scalar(value)
}

/** Checks that `value` is one of `values` for the field at `path`. */
export function checkEnum(path: string, values: readonly string[], value: string): void {
  if (!values.includes(value)) throw fieldError(path, `expected one of ${values.join(", ")}`)
}

/** Whether `step` names a step of the model: `K1` to `K10`, optionally with sub-steps (`K6.2`). */
export function isStep(step: string): boolean {
  if (!step.startsWith("K")) return false
  const number = (part: string) => part !== "" && part.length <= 2 && /^[0-9]+$/.test(part) && !part.startsWith("0")
  const [main = "", ...rest] = step.slice(1).split(".")
  return number(main) && Number(main) <= 10 && rest.every(number)
}

/** Checks a month of the plan for the field at `path`. */
export function checkMonth(path: string, month: number): void {
  if (!Number.isInteger(month) || month < FIRST_MONTH || month > LAST_MONTH) {
    throw fieldError(path, `${month} is not a month ${FIRST_MONTH} to ${LAST_MONTH}`)
  }
}

/** Checks that an append-only entry `id` of `parent` (at `path`) is new. */
export function absent(parent: Obj, path: string, id: string): void {
  checkId(path, id)
  if (parent[id] !== undefined) throw new ModelError("entry.exists", { path: R.pathOf(path, id) })
}

/** The number of characters (code points) of `text`, as Rust's `chars().count()`. */
export const chars = (text: string) => [...text].length
