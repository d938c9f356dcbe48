// The case app's model layer: typed views and edits of the case document exactly as sync-core
// writes it, the stage workflow, and the stable codes with their Polish texts.
//
// Every edit takes the current document, checks the model's rules (throwing a `ModelError`
// with a stable code and the Polish text when one is broken) and returns an `Edit`: one
// Automerge change with the author trailers the server requires. Apply it to a handle with
// `commit(handle, doc => setScreening(doc, ...))`, or to a document with `applyEdit`.
//
// The shared vectors in tests/vectors/case hold this layer to the Rust model: documents written
// by one side are read identically by the other, and each rule is refused with the same code.

import * as A from "@automerge/automerge/slim"
import type { DocHandle, Repo } from "@automerge/automerge-repo/slim"

import type { Editor } from "./editor.ts"
import { createCaseDoc } from "./case/intake.ts"
import type { CaseDoc } from "./case/layout.ts"
import type { CaseInit } from "./case/types.ts"
import { createPzkDoc, type PzkInit } from "./pzk/team.ts"
import type { PzkDoc } from "./pzk/meetings.ts"

export * from "./case/index.ts"
export { ModelError, type Args } from "./errors.ts"
export { RULE_CODES, SCHEMA_CODES, type Code, type RuleCode, type SchemaCode } from "./codes.ts"
export { message, label, catalogueCodes, refusalCode, refusalMessage, type LabelKind } from "./catalogue.ts"
export {
  editor,
  isId,
  checkId,
  newId,
  commitMessage,
  applyEdit,
  commit,
  type Editor,
  type Edit,
  type Changeable,
} from "./editor.ts"
export { isConflicted, allValues, type Conflict } from "./reader.ts"
export * as Referrals from "./referral.ts"
export * as Addressed from "./consultation.ts"
export * as News from "./news.ts"
export * as Meetings from "./pzk/meetings.ts"
export * as Pzk from "./pzk/index.ts"
export * as Justice from "./justice.ts"
export { kindOf, SCHEMA_VERSION, type DocumentKind } from "./header.ts"

/**
 * Creates a case in `repo`: its first change (the referral, by `by`) is written on this device
 * and the document imported, so its history starts with its author.
 */
export function createCase(repo: Repo, init: CaseInit, by: Editor, at: Date): DocHandle<CaseDoc> {
  return repo.import<CaseDoc>(A.save(createCaseDoc(init, by, at)))
}
/** Creates a PZK team's document in `repo`, its first change (by the animator) written here. */
export function createPzk(repo: Repo, init: PzkInit, at: Date): DocHandle<PzkDoc> {
  return repo.import<PzkDoc>(A.save(createPzkDoc(init, at)))
}
export { changesSince, concurrentValues, headsOf, parseMessage, type ChangeEntry, type ConcurrentValue } from "./history.ts"
