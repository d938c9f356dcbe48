// Ending the support (9.1 to 9.3, sync-core/src/model/case/closing.rs): the evaluation, the
// PZK's decision on the case, the hand-over; and the next planned visit.

import * as A from "@automerge/automerge/slim"

import { checkId, type Edit, type Editor } from "../editor.ts"
import * as R from "../reader.ts"
import { PZK_DECISIONS, type CaseDoc, type PzkDecision } from "./layout.ts"
import { caseEdit, caseMap, checkDate, checkEnum, putOptStr, scalar, settle, type Obj } from "./edit.ts"
import { openCase } from "./read.ts"
import type { HandoverTarget } from "./types.ts"

/** Writes the evaluation (9.1). */
export function setEvaluation(doc: CaseDoc, text: string, by: Editor, at: Date): Edit<CaseDoc> {
  R.text(caseMap(doc, "evaluation"), "text", "evaluation")
  return caseEdit("evaluation: updated", by, at, d => {
    A.updateText(d, ["evaluation", "text"], text)
    d.evaluation.by = scalar(by.login)
    d.evaluation.at = at
  })
}

/** Records the PZK's decision on the case (9.2), with the deciding meeting's id when known. */
export function setPzkDecision(
  doc: CaseDoc,
  decision: PzkDecision,
  meeting: string | null,
  by: Editor,
  at: Date,
): Edit<CaseDoc> {
  caseMap(doc, "pzkDecision")
  if (meeting !== null) checkId("pzkDecision/meeting", meeting)
  checkEnum("pzkDecision/decision", PZK_DECISIONS, decision)
  return caseEdit(`pzkDecision: ${decision}`, by, at, d => {
    const map = d.pzkDecision as unknown as Obj
    settle(map, "decision", decision)
    putOptStr(map, "meeting", meeting)
    map.by = scalar(by.login)
    map.at = at
  })
}

/** Records the agreed hand-over (9.3) to `target` with a note; then move the case to `handed_over`. */
export function setHandover(doc: CaseDoc, target: HandoverTarget, note: string, by: Editor, at: Date): Edit<CaseDoc> {
  const handover = caseMap(doc, "handover")
  checkId("handover/target", target.institution)
  R.text(handover, "note", "handover")
  return caseEdit(`handover: to ${target.institution}`, by, at, d => {
    const map = d.handover as unknown as Obj
    map.target = scalar(target.institution)
    putOptStr(map, "targetWorker", target.worker)
    A.updateText(d, ["handover", "note"], note)
    map.by = scalar(by.login)
    map.at = at
  })
}

/** Sets the next planned visit ("YYYY-MM-DD"), or clears it with `null`. */
export function setNextVisit(doc: CaseDoc, day: string | null, by: Editor, at: Date): Edit<CaseDoc> {
  openCase(doc)
  if (day !== null) checkDate("nextVisit", day)
  return caseEdit(`nextVisit: ${day ?? "cleared"}`, by, at, d => {
    putOptStr(d as unknown as Obj, "nextVisit", day)
  })
}
