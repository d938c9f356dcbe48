// Rectification (*sprostowanie*, GDPR art. 16; sync-core/src/model/case/rectification.rs): a
// correction of a person's data recorded as such in the case. The field is corrected and, in
// the same change, an entry is appended to `rectifications` (append-only, keyed by a
// client-chosen id): the field's path, the old and the new value (absent when empty), the
// required reason, who (login and institution) and when. The fields a rectification corrects:
// a household member's name, relation and date of birth, the household's address and phone.

import type { Edit, Editor } from "../editor.ts"
import { isId } from "../editor.ts"
import { ModelError, fieldError } from "../errors.ts"
import * as R from "../reader.ts"
import type { CaseDoc } from "./layout.ts"
import { normalizeAddress, normalizePhone, trim } from "./contact.ts"
import { absent, caseEdit, putOptStr, scalar, type Obj } from "./edit.ts"
import { openCase } from "./read.ts"

/** The longest reason kept, in characters. */
export const MAX_REASON_CHARS = 1000

/** The longest name or relation kept, in characters. */
const MAX_VALUE_CHARS = 200

/** A field a rectification corrects: a member's `name`/`relation`/`birthDate`, or the household's. */
export type RectifiedField =
  | { member: string; key: "name" | "relation" | "birthDate" }
  | { member: null; key: "householdAddress" | "householdPhone" }

/** A correction asked for: the field's path, its new value as typed (`null` clears) and why. */
export interface Rectification {
  field: string
  new: string | null
  reason: string
}

/** A rectification entry as read. */
export interface RectificationView {
  id: string
  field: string
  old: string | null
  new: string | null
  reason: string
  by: string
  institution: string
  at: Date
}

const MEMBER_KEYS = ["name", "relation", "birthDate"] as const

/** The field a path names (`household/p1/name`, `householdPhone`...), or `rectification.unknown-field`. */
export function parseRectifiedField(path: string): RectifiedField {
  if (path === "householdAddress" || path === "householdPhone") return { member: null, key: path }
  const parts = path.split("/")
  const key = parts[2] as (typeof MEMBER_KEYS)[number]
  if (parts.length === 3 && parts[0] === "household" && isId(parts[1]) && MEMBER_KEYS.includes(key)) {
    return { member: parts[1], key }
  }
  throw new ModelError("rectification.unknown-field", { field: Array.from(path).slice(0, 80).join("") })
}

/** The path a field is named by in the log. */
export function rectifiedPath(field: RectifiedField): string {
  return field.member === null ? field.key : `household/${field.member}/${field.key}`
}

/** The value as kept from what was typed (`null` or blank clears); refused when the field cannot take it. */
export function normalizeRectified(field: RectifiedField, typed: string | null): string | null {
  const value = typed ?? ""
  const invalid = () => new ModelError("rectification.value-invalid", { field: rectifiedPath(field) })
  switch (field.key) {
    case "householdAddress":
      return normalizeAddress(value)
    case "householdPhone":
      return normalizePhone(value)
    case "name":
    case "relation": {
      const kept = trim(value)
      if (kept === "" || Array.from(kept).length > MAX_VALUE_CHARS || /\p{Cc}/u.test(kept)) throw invalid()
      return kept
    }
    case "birthDate": {
      const day = trim(value)
      if (day === "") return null
      if (!R.isDate(day)) throw invalid()
      return day
    }
  }
}

function checkReason(reason: string): string {
  const kept = trim(reason)
  if (kept === "" || Array.from(kept).length > MAX_REASON_CHARS) throw new ModelError("rectification.reason-required")
  return kept
}

/**
 * Corrects a field and records the correction under `rectificationId` in one change. Refused
 * (in this order, as in Rust) for a path that names no correctable field, without a reason, for
 * a value the field cannot take, for an id already used, for a household member the case does
 * not hold, and when the value does not change.
 */
export function rectify(
  doc: CaseDoc,
  rectificationId: string,
  rectification: Rectification,
  by: Editor,
  at: Date,
): Edit<CaseDoc> {
  const field = parseRectifiedField(rectification.field)
  const reason = checkReason(rectification.reason)
  const value = normalizeRectified(field, rectification.new)
  const root = openCase(doc)
  const log = root.rectifications === undefined ? undefined : R.map(root, "rectifications", "")
  if (log === undefined) absent({}, "rectifications", rectificationId)
  else absent(log, "rectifications", rectificationId)
  const path = rectifiedPath(field)
  let target = root
  if (field.member !== null) {
    const household = R.map(root, "household", "")
    if (household[field.member] === undefined) throw new ModelError("rectification.unknown-field", { field: path })
    target = R.map(household, field.member, "household")
  }
  const old = R.optStr(target, field.key, field.member === null ? "" : `household/${field.member}`)
  if (old === value) throw new ModelError("rectification.no-change", { field: path })
  return caseEdit(`rectifications/${rectificationId}: ${path} corrected`, by, at, d => {
    const writable = field.member === null ? (d as unknown as Obj) : (d.household[field.member] as unknown as Obj)
    putOptStr(writable, field.key, value)
    if (d.rectifications === undefined) d.rectifications = {}
    const entry: Obj = { field: scalar(path) }
    if (old !== null) entry.old = scalar(old)
    if (value !== null) entry.new = scalar(value)
    entry.reason = scalar(reason)
    entry.by = scalar(by.login)
    entry.institution = scalar(by.institution)
    entry.at = at
    d.rectifications[rectificationId] = entry
  })
}

/** The case's rectifications, oldest first; none for a case without the log. */
export function readRectifications(doc: CaseDoc): RectificationView[] {
  const root = openCase(doc)
  if (root.rectifications === undefined) return []
  const log = R.map(root, "rectifications", "")
  const views = Object.keys(log).map(id => {
    const path = R.pathOf("rectifications", id)
    const node = R.map(log, id, "rectifications")
    const field = R.str(node, "field", path)
    try {
      parseRectifiedField(field)
      checkReason(R.str(node, "reason", path))
    } catch (e) {
      throw fieldError(`${path}/${e instanceof ModelError && e.code === "rectification.reason-required" ? "reason" : "field"}`, String(e))
    }
    return {
      id,
      field,
      old: R.optStr(node, "old", path),
      new: R.optStr(node, "new", path),
      reason: R.str(node, "reason", path),
      by: R.str(node, "by", path),
      institution: R.str(node, "institution", path),
      at: R.timestamp(node, "at", path),
    }
  })
  return views.sort((a, b) => a.at.getTime() - b.at.getTime() || R.compareIds(a.id, b.id))
}
