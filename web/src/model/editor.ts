// Who makes a change and how it is written: one Automerge change per edit, whose commit
// message names its author in trailers (sync-core/src/model/editor.rs), made at the caller's
// time (seconds, as the Rust model and automerge-repo write it).

import * as A from "@automerge/automerge/slim"

import { fieldError } from "./errors.ts"

/** The user making an edit: their login and the institution they act for. */
export interface Editor {
  login: string
  institution: string
}

/** The longest id or login, in UTF-8 bytes. */
export const MAX_ID_LEN = 128

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length
}

function hasControl(text: string): boolean {
  return /\p{Cc}/u.test(text)
}

/** An editor, checked as the Rust model checks one (`Editor::new`). */
export function editor(login: string, institution: string): Editor {
  const loginBytes = utf8Length(login)
  if (loginBytes < 1 || loginBytes > MAX_ID_LEN || hasControl(login)) {
    throw fieldError("Author", `a login must be 1 to ${MAX_ID_LEN} bytes without control characters`)
  }
  checkId("Institution", institution)
  return { login, institution }
}

/** Whether `id` is a valid id: 1 to 128 bytes, no `/`, no control characters. */
export function isId(id: string): boolean {
  const bytes = utf8Length(id)
  return bytes >= 1 && bytes <= MAX_ID_LEN && !id.includes("/") && !hasControl(id)
}

/** Checks a client-chosen id (the key of an id-keyed map under `parent`). */
export function checkId(parent: string, id: string): void {
  if (!isId(id)) {
    const path = parent === "" ? id : `${parent}/${id}`
    throw fieldError(path, `an id must be 1 to ${MAX_ID_LEN} bytes without '/' or control characters`)
  }
}

/** A new client-chosen id: `prefix-` and a random part (unique across devices). */
export function newId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}`
}

function oneLine(text: string): string {
  return text.replace(/\p{Cc}/gu, " ")
}

/**
 * The commit message of a change that `what` describes, made by `by`: the summary line, an
 * empty line, and the `Author` and `Institution` trailers.
 */
export function commitMessage(what: string, by: Editor): string {
  return `${oneLine(what)}\n\nAuthor: ${oneLine(by.login)}\nInstitution: ${oneLine(by.institution)}`
}

/** One edit, checked against the document it was made for and not yet applied. */
export interface Edit<T> {
  /** The commit message (summary and author trailers). */
  message: string
  /** The change's time in seconds since the epoch. */
  time: number
  /** Writes the edit inside an Automerge change callback. */
  apply: (doc: T) => void
}

/** An edit by `by` at `at`, described by `what`. */
export function edit<T>(what: string, by: Editor, at: Date, apply: (doc: T) => void): Edit<T> {
  return { message: commitMessage(what, by), time: Math.floor(at.getTime() / 1000), apply }
}

/** `doc` with `edit` applied as one change. */
export function applyEdit<T>(doc: A.Doc<T>, e: Edit<T>): A.Doc<T> {
  return A.change(doc, { message: e.message, time: e.time }, e.apply)
}

/** What the edits need of an automerge-repo `DocHandle`. */
export interface Changeable<T> {
  doc(): A.Doc<T> | undefined
  change(callback: A.ChangeFn<T>, options?: A.ChangeOptions<T>): void
}

/**
 * Makes an edit on a document handle: `build` checks the rules against the handle's current
 * document (throwing a `ModelError` when one is broken) and the edit is applied at once, as one
 * change. Returns the edit (a contract signing, say, carries the heads it signed).
 */
export function commit<T, E extends Edit<T>>(handle: Changeable<T>, build: (doc: A.Doc<T>) => E): E {
  const doc = handle.doc()
  if (doc === undefined) throw fieldError("", "the document is not loaded")
  const built = build(doc)
  handle.change(built.apply, { message: built.message, time: built.time })
  return built
}
