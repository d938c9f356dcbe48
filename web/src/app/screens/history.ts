// History: what changed since the worker's last visit to this card, by whom and when (the
// model reads it from the changes' authors); the rest folds away.

import { el, section, when } from "./dom"
import type { HistoryEntry } from "./port"

const SEEN = "kooperacja.lastVisit."

/** When this user last opened the case on this device (kept beside the app, not in the case). */
export function lastVisit(login: string, documentId: string): Date | null {
  const at = localStorage.getItem(`${SEEN}${login}.${documentId}`)
  return at ? new Date(Number(at)) : null
}

export function rememberVisit(login: string, documentId: string): void {
  localStorage.setItem(`${SEEN}${login}.${documentId}`, String(Date.now()))
}

export function history(entries: HistoryEntry[], since: Date | null): HTMLElement {
  const fresh = since ? entries.filter(e => e.at && e.at > since) : entries
  const older = since ? entries.filter(e => !e.at || e.at <= since) : []
  const line = (e: HistoryEntry) =>
    el("li", {}, el("span", { class: "muted" }, `${when(e.at)} · ${e.by ?? "nieznana osoba"}${e.institution ? ` (${e.institution})` : ""}: `), e.what)
  const body = section(
    "history",
    "Historia",
    el("p", {}, since ? `Zmiany od Twojej ostatniej wizyty (${when(since)}):` : "Wszystkie zmiany:"),
    el("ol", { "data-testid": "changes-since" }, ...fresh.reverse().map(line)),
  )
  if (fresh.length === 0) body.append(el("p", { class: "muted", "data-testid": "nothing-new" }, "Nic się nie zmieniło."))
  if (older.length) body.append(el("details", {}, el("summary", {}, `Wcześniejsze zmiany (${older.length})`), el("ol", {}, ...older.reverse().map(line))))
  return body
}
