// Police and court information about a case (sync-core/src/model/justice, GDPR art. 10): what
// the police, a court or a probation officer told the social worker (e.g. from the "Niebieska
// Karta" procedure), kept in a document of its own beside the case. The case holds only the
// link (`justiceDocument`); the server lets only the case's owner and the justice-sector
// institutions assigned to the case hold this document (`refusal.justice-not-allowed`). The
// same layout, rules and codes as the Rust model (held to it by
// tests/tests/case_vectors/justice.rs).

import * as A from "@automerge/automerge/slim"
import type { DocHandle, Repo } from "@automerge/automerge-repo/slim"

import { applyEdit, checkId, edit, type Edit, type Editor } from "./editor.ts"
import { ModelError, fieldError } from "./errors.ts"
import { SCHEMA_VERSION, open } from "./header.ts"
import * as R from "./reader.ts"
import type { CaseDoc } from "./case/layout.ts"
import { openCase } from "./case/read.ts"

export const JUSTICE_PROCEDURES = ["blue_card", "criminal", "family_court", "probation", "other"] as const
export type JusticeProcedure = (typeof JUSTICE_PROCEDURES)[number]

/** The justice document as Automerge's JS proxy shows it. */
export interface JusticeDoc {
  type: A.ImmutableString
  schemaVersion: number
  createdAt: Date
  case: A.ImmutableString
  entries: Record<string, Record<string, unknown>>
}

/** One piece of information, as a worker writes it down. */
export interface JusticeEntry {
  procedure: JusticeProcedure
  /** Its number (e.g. of the Niebieska Karta form); may be empty. */
  number: string
  /** The institution that informed. */
  informedBy: string
  /** The day it informed, "YYYY-MM-DD". */
  date: string
  content: string
}

export interface JusticeEntryView extends JusticeEntry {
  author: string
  institution: string
  at: Date
}

export interface JusticeView {
  case: string
  createdAt: Date
  entries: Record<string, JusticeEntryView>
}

type Obj = Record<string, unknown>
const s = (value: string) => new A.ImmutableString(value)

/** The first change of a new, empty justice document for the case `caseId`. */
export function newJustice(caseId: string, by: Editor, at: Date): Edit<JusticeDoc> {
  checkId("case", caseId)
  return edit(`justice: created for ${caseId}`, by, at, d => {
    const doc = d as unknown as Obj
    doc.type = s("justice")
    doc.schemaVersion = SCHEMA_VERSION
    doc.createdAt = at
    doc.case = s(caseId)
    doc.entries = {}
  })
}

/** Creates the justice document of a case in `repo`, written on this device. */
export function createJustice(repo: Repo, caseId: string, by: Editor, at: Date): DocHandle<JusticeDoc> {
  const doc = applyEdit(A.init<JusticeDoc>(), newJustice(caseId, by, at))
  return repo.import<JusticeDoc>(A.save(doc))
}

/** Checks an entry before it is written: who informed and what are required, as in Rust. */
export function checkJusticeEntry(entry: JusticeEntry, id = "new"): void {
  const required: Array<[string, string]> = [
    ["informedBy", entry.informedBy],
    ["content", entry.content],
  ]
  const missing = required.find(([, value]) => value.trim() === "")
  if (missing) throw new ModelError("justice.incomplete", { field: missing[0] })
  if (!JUSTICE_PROCEDURES.includes(entry.procedure)) throw fieldError(`entries/${id}/procedure`, "unknown")
  if (!R.isDate(entry.date)) throw fieldError(`entries/${id}/date`, "expected a date YYYY-MM-DD")
}

/** Writes down one piece of information as entry `id`: once, with who informed and what. */
export function addJusticeEntry(
  doc: JusticeDoc,
  id: string,
  entry: JusticeEntry,
  by: Editor,
  at: Date,
): Edit<JusticeDoc> {
  checkJusticeEntry(entry, id)
  const root = doc as unknown as Obj
  open(root, "justice")
  const entries = R.map(root, "entries", "")
  checkId("entries", id)
  if (entries[id] !== undefined) throw new ModelError("entry.exists", { path: `entries/${id}` })
  return edit(`justice: entry ${id}`, by, at, d => {
    ;(d as unknown as { entries: Obj }).entries[id] = {
      procedure: s(entry.procedure),
      number: s(entry.number.trim()),
      informedBy: s(entry.informedBy.trim()),
      date: s(entry.date),
      content: entry.content,
      author: s(by.login),
      institution: s(by.institution),
      at,
    }
  })
}

/** Reads a justice document, checked against its layout as the Rust model checks it. */
export function readJustice(doc: JusticeDoc): JusticeView {
  const root = doc as unknown as Obj
  open(root, "justice")
  const caseId = R.str(root, "case", "")
  checkId("case", caseId)
  const entries = R.readMap(root, "entries", "", (node, path) => ({
    procedure: R.field(node, "procedure", path, R.parseEnum(JUSTICE_PROCEDURES)).value,
    number: R.str(node, "number", path),
    informedBy: R.str(node, "informedBy", path),
    date: R.date(node, "date", path),
    content: R.text(node, "content", path),
    author: R.str(node, "author", path),
    institution: R.str(node, "institution", path),
    at: R.timestamp(node, "at", path),
  }))
  for (const id of Object.keys(entries)) checkId("entries", id)
  return { case: caseId, createdAt: R.timestamp(root, "createdAt", ""), entries }
}

/** The case's justice document, when one is linked. */
export function justiceDocument(doc: CaseDoc): string | null {
  const link = R.optStr(openCase(doc) as Obj, "justiceDocument", "")
  if (link !== null) checkId("justiceDocument", link)
  return link
}

/** Links the case's justice document (written once; the case holds only the id). */
export function linkJusticeDocument(doc: CaseDoc, justiceId: string, by: Editor, at: Date): Edit<CaseDoc> {
  checkId("justiceDocument", justiceId)
  if (justiceDocument(doc) !== null) throw new ModelError("entry.exists", { path: "justiceDocument" })
  return edit(`justice: linked ${justiceId}`, by, at, d => {
    ;(d as unknown as Obj).justiceDocument = s(justiceId)
  })
}
