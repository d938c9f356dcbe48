// The case workflow, mirroring sync-core/src/model/case/workflow.rs exactly: which stage may
// follow which, what each move needs, and the rules every state keeps. The shared test vectors
// (tests/vectors/case) hold both sides to the same answers and codes.

import type { Edit, Editor } from "../editor.ts"
import { ModelError } from "../errors.ts"
import { allValues, isConflicted, type Conflict } from "../reader.ts"
import { STAGES, type CaseDoc, type PzkDecision, type ScreeningOutcome, type Stage } from "./layout.ts"
import { caseEdit, checkEnum, scalar, settle, type Obj } from "./edit.ts"
import { contractChangedSinceSigned, contractTextAt, goalCountAt } from "./contract.ts"
import { readCase, stage as readStage } from "./read.ts"
import type { CaseView } from "./types.ts"

const MOVES: Record<Stage, readonly Stage[]> = {
  referral: ["screening"],
  screening: ["diagnosis", "closed"],
  diagnosis: ["ipp"],
  ipp: ["contract", "diagnosis"],
  contract: ["delivery", "ipp", "diagnosis"],
  delivery: ["evaluation", "diagnosis"],
  evaluation: ["closed", "handed_over", "delivery", "diagnosis"],
  closed: [],
  handed_over: [],
}

/** The stages a case at `from` may move to, forward moves first; none from a final stage. */
export function allowedMoves(from: Stage): readonly Stage[] {
  return MOVES[from]
}

/** Whether the workflow allows a move from `from` to `to` at all, whatever the case holds. */
export function isAllowed(from: Stage, to: Stage): boolean {
  return MOVES[from].includes(to)
}

const list = (values: readonly string[]): string => values.join(", ")

/**
 * Whether the case could move to `to` now: the move is allowed from its stage, the stage is not
 * in conflict, and what the move needs is there. Returns the stage it would move from; throws a
 * `ModelError` with the reason's code otherwise.
 */
export function checkTransition(doc: CaseDoc, to: Stage): Stage {
  checkEnum("stage", STAGES, to)
  const view = readCase(doc)
  const from = settledStage(view.stage)
  checkMove(from, to)
  checkNeeds(doc, view, from, to)
  return from
}

/** One move a case at its stage might make: open, or blocked with the reason. */
export type StageMove =
  | { to: Stage; allowed: true }
  | { to: Stage; allowed: false; error: ModelError }

/**
 * The moves the workflow offers from the case's stage (or, while the stage is in conflict, from
 * each concurrent value), each open or blocked with its reason, for a stage bar.
 */
export function stageMoves(doc: CaseDoc): StageMove[] {
  const current = readStage(doc)
  const targets = [...new Set(allValues(current).flatMap(s => [...MOVES[s]]))]
  return targets.map(to => {
    try {
      checkTransition(doc, to)
      return { to, allowed: true }
    } catch (error) {
      if (error instanceof ModelError) return { to, allowed: false, error }
      throw error
    }
  })
}

/** Moves the case to stage `to` as one change, after `checkTransition`. */
export function transition(doc: CaseDoc, to: Stage, by: Editor, at: Date): Edit<CaseDoc> {
  const from = checkTransition(doc, to)
  return caseEdit(`stage: ${from} -> ${to}`, by, at, d => {
    d.stage = scalar(to)
  })
}

/** Settles a stage conflict: writes `chosen`, one of the concurrent values, over all of them. */
export function resolveStage(doc: CaseDoc, chosen: Stage, by: Editor, at: Date): Edit<CaseDoc> {
  checkEnum("stage", STAGES, chosen)
  const found = readStage(doc)
  if (!isConflicted(found)) throw new ModelError("stage.not-conflicted", { stage: found.value })
  const all = allValues(found)
  if (!all.includes(chosen)) throw new ModelError("stage.not-concurrent", { chosen, stages: list(all) })
  const others = list(all.filter(s => s !== chosen))
  return caseEdit(`stage: ${chosen} confirmed (concurrent: ${others})`, by, at, d => {
    settle(d as unknown as Obj, "stage", chosen)
  })
}

/** Checks the rules every state of a case keeps (the server refuses a change that breaks one). */
export function checkState(doc: CaseDoc): void {
  const view = readCase(doc)
  view.contract.signatures.forEach((signing, index) => {
    if (goalCountAt(doc, signing.heads) === 0) {
      throw new ModelError("state.signing-without-plan", { index: String(index) })
    }
    if (contractTextAt(doc, signing.heads).trim() === "") {
      throw new ModelError("state.signing-empty-contract", { index: String(index) })
    }
    const { mode, consentNote } = signing.signature
    if (mode !== "in_person" && consentNote.trim() === "") {
      throw new ModelError("state.signing-remote-without-consent", { index: String(index), mode })
    }
  })
  for (const stage of allValues(view.stage)) checkStageState(view, stage)
}

function checkStageState(view: CaseView, stage: Stage): void {
  const needsGoals = ["contract", "delivery", "evaluation", "handed_over"].includes(stage)
  if (needsGoals && Object.keys(view.goals).length === 0) {
    throw new ModelError("state.stage-without-goal", { stage })
  }
  const needsSigning = ["delivery", "evaluation", "handed_over"].includes(stage)
  if (needsSigning && view.contract.signatures.length === 0) {
    throw new ModelError("state.stage-without-signing", { stage })
  }
  if (stage === "handed_over" && view.handover === null) {
    throw new ModelError("state.handed-over-without-target")
  }
}

function settledStage(stage: Conflict<Stage>): Stage {
  if (isConflicted(stage)) throw new ModelError("stage.conflicted", { stages: list(allValues(stage)) })
  return stage.value
}

function checkMove(from: Stage, to: Stage): void {
  if (isAllowed(from, to)) return
  const allowed = MOVES[from]
  if (from === to) throw new ModelError("stage.already-there", { stage: to })
  if (allowed.length === 0) throw new ModelError("stage.final", { from, to })
  throw new ModelError("stage.move-not-allowed", { from, to, allowed: list(allowed) })
}

function checkNeeds(doc: CaseDoc, view: CaseView, from: Stage, to: Stage): void {
  const move = `${from}->${to}`
  switch (move) {
    case "screening->diagnosis":
      return needsScreening(view, "qualified", to)
    case "screening->closed":
      return needsScreening(view, "not_qualified", to)
    case "diagnosis->ipp":
      if (Object.values(view.diagnosis).every(text => text.trim() === "")) throw new ModelError("diagnosis.empty")
      return
    case "ipp->contract":
      if (Object.keys(view.goals).length === 0) throw new ModelError("ipp.no-goal")
      return
    case "contract->delivery":
      if (view.contract.signatures.length === 0) throw new ModelError("contract.not-signed")
      if (contractChangedSinceSigned(doc)) throw new ModelError("contract.changed-since-signed")
      return
    case "evaluation->delivery":
      return needsDecision(view, "continue", to)
    case "evaluation->closed":
      return needsEnd(view, to)
    case "evaluation->handed_over":
      needsEnd(view, to)
      if (view.handover === null) throw new ModelError("handover.no-target")
      return
  }
}

function needsScreening(view: CaseView, wanted: ScreeningOutcome, to: Stage): void {
  const outcome = view.screening.outcome
  if (outcome !== null && isConflicted(outcome)) {
    throw new ModelError("screening.decision-conflicted", { to, values: list(allValues(outcome).sort()) })
  }
  if (outcome === null || outcome.value !== wanted) {
    throw new ModelError("screening.decision-missing", { to, decision: wanted })
  }
}

function needsDecision(view: CaseView, wanted: PzkDecision, to: Stage): void {
  const decision = view.pzkDecision?.decision
  if (decision !== undefined && isConflicted(decision)) {
    throw new ModelError("pzk-decision.conflicted", { to, values: list(allValues(decision).sort()) })
  }
  if (decision === undefined || decision.value !== wanted) {
    throw new ModelError("pzk-decision.missing", { to, decision: wanted })
  }
}

function needsEnd(view: CaseView, to: Stage): void {
  if (view.evaluation.text.trim() === "") throw new ModelError("evaluation.missing", { to })
  needsDecision(view, "end", to)
}
