// What every edit of a case shares: the checks before it and the writes inside it.

import * as A from "@automerge/automerge/slim"

import { checkId, edit as makeEdit, type Edit, type Editor } from "../editor.ts"
import { ModelError, fieldError } from "../errors.ts"
import * as R from "../reader.ts"
import type { CaseDoc } from "./layout.ts"
import { openCase } from "./read.ts"

export type Obj = Record<string, unknown>

/** An edit of a case by `by` at `at`, described by `what`. */
export function caseEdit(what: string, by: Editor, at: Date, apply: (doc: CaseDoc) => void): Edit<CaseDoc> {
  return makeEdit(what, by, at, apply)
}

/** The map at `key` of the case's root, after checking the document is a case. */
export function caseMap(doc: CaseDoc, key: string): Obj {
  return R.map(openCase(doc), key, "")
}

/** Checks that an append-only entry `id` of `parent` (at `path`) is new. */
export function absent(parent: Obj, path: string, id: string): void {
  checkId(path, id)
  if (parent[id] !== undefined) throw new ModelError("entry.exists", { path: R.pathOf(path, id) })
}

/** A scalar string as stored. */
export function scalar(value: string): A.ImmutableString {
  return new A.ImmutableString(value)
}

/**
 * Writes the scalar `value` at `obj[key]` over every value set there concurrently, as the Rust
 * model's put does. Automerge's JS proxy skips a write equal to the value it shows, which would
 * leave a conflict standing when the worker keeps the shown value: deleting first makes the
 * write one value that supersedes all of them.
 */
export function settle(obj: Obj, key: string, value: string): void {
  delete obj[key]
  obj[key] = scalar(value)
}

/** Checks a calendar date "YYYY-MM-DD" for the field at `path`. */
export function checkDate(path: string, day: string): void {
  if (!R.isDate(day)) throw fieldError(path, "expected a date YYYY-MM-DD")
}

/** Checks that `value` is one of `values` for the field at `path`. */
export function checkEnum(path: string, values: readonly string[], value: string): void {
  if (!values.includes(value)) throw fieldError(path, `expected one of ${values.join(", ")}`)
}

/** Sets or removes an optional scalar string inside a change. */
export function putOptStr(obj: Obj, key: string, value: string | null): void {
  if (value !== null) obj[key] = scalar(value)
  else if (obj[key] !== undefined) delete obj[key]
}

/** Entry `id` of the id-keyed map `parent` (at `path`) read with `read`, or `undefined` if new. */
export function existing<T>(parent: Obj, path: string, id: string, read: (node: Obj, path: string) => T): T | undefined {
  checkId(path, id)
  if (parent[id] === undefined) return undefined
  return read(R.map(parent, id, path), R.pathOf(path, id))
}
