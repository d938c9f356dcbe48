// Reading fields with their shape checked, as sync-core/src/model/reader.rs does: a field of
// the wrong type or a missing one is a `field.invalid` error naming its path, never a silent
// default. Status-like fields report every concurrent value as a `Conflict`.

import * as A from "@automerge/automerge/slim"

import { fieldError } from "./errors.ts"

/** Concurrent values of one key: the value shown and the others (none when settled). */
export interface Conflict<T> {
  value: T
  alternatives: T[]
}

/** Whether replicas disagree on the value. */
export function isConflicted<T>(found: Conflict<T>): boolean {
  return found.alternatives.length > 0
}

/** The shown value and the alternatives, in that order. */
export function allValues<T>(found: Conflict<T>): T[] {
  return [found.value, ...found.alternatives]
}

/** A conflict of `value` and `others`, without repeats or the value itself among the others. */
export function conflict<T>(value: T, others: Iterable<T>): Conflict<T> {
  const alternatives: T[] = []
  for (const other of others) {
    if (other !== value && !alternatives.includes(other)) alternatives.push(other)
  }
  return { value, alternatives }
}

type Obj = Record<string, unknown>

function isImmutableString(value: unknown): value is A.ImmutableString {
  return typeof value === "object" && value !== null && typeof (value as { val?: unknown }).val === "string"
    && !(value instanceof Date) && !Array.isArray(value)
}

/** The path of `key` under `path`. */
export function pathOf(path: string, key: string): string {
  return path === "" ? key : `${path}/${key}`
}

/** A map (object) of the document at `key`, or a field error. */
export function map(obj: Obj, key: string, path: string): Obj {
  const value = obj[key]
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date
    || isImmutableString(value)) {
    throw fieldError(pathOf(path, key), value === undefined ? "missing" : "expected a map")
  }
  return value as Obj
}

/** A list at `key`, or a field error. */
export function list(obj: Obj, key: string, path: string): unknown[] {
  const value = obj[key]
  if (!Array.isArray(value)) {
    throw fieldError(pathOf(path, key), value === undefined ? "missing" : "expected a list")
  }
  return value
}

/** The content of the Text object at `key`. */
export function text(obj: Obj, key: string, path: string): string {
  const value = obj[key]
  if (typeof value !== "string") {
    throw fieldError(pathOf(path, key), value === undefined ? "missing" : "expected a Text object")
  }
  return value
}

/** Every concurrent value of a scalar key, parsed, or `undefined` when the key is absent. */
export function optField<T>(
  obj: Obj,
  key: string,
  path: string,
  parse: (value: unknown) => T | undefined,
): Conflict<T> | undefined {
  const winner = obj[key]
  if (winner === undefined) return undefined
  const parseOne = (value: unknown): T => {
    const parsed = parse(value)
    if (parsed === undefined) throw fieldError(pathOf(path, key), "a value of the wrong type")
    return parsed
  }
  const value = parseOne(winner)
  // getConflicts gives scalar strings as plain strings; the winner above was type-checked.
  const all = A.getConflicts(obj, key)
  const asStored = (value: unknown) => (typeof value === "string" ? new A.ImmutableString(value) : value)
  const others = all === undefined ? [] : Object.values(all).map(value => parseOne(asStored(value)))
  return conflict(value, others)
}

/** Like `optField` for a key that must be present. */
export function field<T>(
  obj: Obj,
  key: string,
  path: string,
  parse: (value: unknown) => T | undefined,
): Conflict<T> {
  const found = optField(obj, key, path, parse)
  if (found === undefined) throw fieldError(pathOf(path, key), "missing")
  return found
}

export const parseStr = (value: unknown): string | undefined =>
  isImmutableString(value) ? value.val : undefined

export const parseTimestamp = (value: unknown): Date | undefined =>
  value instanceof Date ? value : undefined

export const parseDate = (value: unknown): string | undefined => {
  const day = parseStr(value)
  return day !== undefined && isDate(day) ? day : undefined
}

export const parseBool = (value: unknown): boolean | undefined =>
  typeof value === "boolean" ? value : undefined

export const parseUint = (value: unknown): number | undefined => {
  if (typeof value === "bigint") return value >= 0n ? Number(value) : undefined
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value
  return undefined
}

/** A parser of one of `values` (the wire strings of an enum). */
export function parseEnum<T extends string>(values: readonly T[]): (value: unknown) => T | undefined {
  return value => {
    const found = parseStr(value)
    return values.find(v => v === found)
  }
}

/** Whether `day` is a calendar date written "YYYY-MM-DD". */
export function isDate(day: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return false
  const parsed = new Date(`${day}T00:00:00Z`)
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === day
}

export const str = (obj: Obj, key: string, path: string): string =>
  field(obj, key, path, parseStr).value
export const optStr = (obj: Obj, key: string, path: string): string | null =>
  optField(obj, key, path, parseStr)?.value ?? null
export const timestamp = (obj: Obj, key: string, path: string): Date =>
  field(obj, key, path, parseTimestamp).value
export const optTimestamp = (obj: Obj, key: string, path: string): Date | null =>
  optField(obj, key, path, parseTimestamp)?.value ?? null
export const date = (obj: Obj, key: string, path: string): string =>
  field(obj, key, path, parseDate).value
export const optDate = (obj: Obj, key: string, path: string): string | null =>
  optField(obj, key, path, parseDate)?.value ?? null

/** The entries of an id-keyed map, read with `read`, sorted by id. */
export function readMap<T>(
  obj: Obj,
  key: string,
  path: string,
  read: (entry: Obj, path: string) => T,
): Record<string, T> {
  const parent = map(obj, key, path)
  const here = pathOf(path, key)
  const out: Record<string, T> = {}
  for (const id of Object.keys(parent).sort(compareIds)) {
    out[id] = read(map(parent, id, here), pathOf(here, id))
  }
  return out
}

/** Orders ids as the Rust model does (by UTF-8 bytes; for these ids, by code points). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
