// The caseload's index: the rows of "Moje sprawy" as last drawn, kept sealed in the device's
// store (the vault's `caseload` value), so that the list shows at once when the app opens
// (offline too) instead of after every case document has been loaded, decrypted and read
// (about 5 s for 200 cases on the benchmark machine, docs/benchmarks.md). The documents are
// then read as before and the list redrawn from them; the index is rewritten.
//
// An index from another day is not used: what is overdue depends on the day.

import type { AppContext } from "../context"
import { isoDay } from "./dom"
import type { CaseSummary } from "./port"

interface Index {
  login: string
  day: string
  cases: CaseSummary[]
}

const isIndex = (value: unknown): value is Index =>
  typeof value === "object" && value !== null && Array.isArray((value as Index).cases) && typeof (value as Index).day === "string"

/** The rows kept for this user today, or null. */
export async function keptRows(context: AppContext): Promise<CaseSummary[] | null> {
  try {
    const kept = await context.caseloadIndex.load()
    if (!isIndex(kept) || kept.login !== context.me.login || kept.day !== isoDay(new Date())) return null
    return kept.cases
  } catch {
    // An unreadable index is only a slower start: the documents are read anyway.
    return null
  }
}

/** Keeps the rows just read from the documents. */
export async function keepRows(context: AppContext, cases: CaseSummary[]): Promise<void> {
  const index: Index = { login: context.me.login, day: isoDay(new Date()), cases }
  await context.caseloadIndex.save(index).catch(() => undefined)
}
