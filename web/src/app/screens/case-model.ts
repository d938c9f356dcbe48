// The screens' one door to the model (web/src/model): fills the screens' data (port.ts) from
// case documents and turns the screens' edits into the model's edits. Nothing here decides
// what is allowed; the model's rules and its Polish catalogue do.

import type { AppContext } from "../context"
import type { Access, CaseData, CaseEdits, CaseSummary, Choices, HistoryEntry, NewCase, TodayItem } from "./port"

/** An open case: its data as of now, its edits, and a listener for its changes. */
export interface OpenedCase {
  data(): CaseData
  history(): HistoryEntry[]
  edits: CaseEdits
  choices: Choices
  access: Access
  onChange(listener: () => void): () => void
}

const NOT_YET = "Model sprawy (web/src/model) nie jest jeszcze dostępny."

export async function openCase(_context: AppContext, _documentId: string): Promise<OpenedCase> {
  throw new Error(NOT_YET)
}

export async function loadCaseload(_context: AppContext): Promise<{ cases: CaseSummary[]; missing: number }> {
  throw new Error(NOT_YET)
}

export async function loadToday(_context: AppContext): Promise<TodayItem[]> {
  throw new Error(NOT_YET)
}

export async function createCase(_context: AppContext, _init: NewCase): Promise<string> {
  throw new Error(NOT_YET)
}
