// "Moje sprawy": the worker's cases from the documents on this device, with search, the stage,
// who else works on each, what is overdue and the next visit.

import type { AppContext } from "../context"
import { mayOpenCases } from "./case-model"
import { loadCaseload } from "./caseload-model"
import { keepRows, keptRows } from "./caseload-index"
import { day, el, input, reportError } from "./dom"
import type { CaseSummary } from "./port"
import { href } from "./router"

function row(s: CaseSummary): HTMLElement {
  const link = el("a", { href: href({ screen: "case", documentId: s.documentId }), "data-testid": "case-link" }, s.title)
  return el(
    "li",
    {
      class: "case-row",
      "data-case": s.documentId,
      "data-stage": s.stage.value,
      ...(s.overdue.length ? { "data-overdue": "" } : {}),
      ...(s.conflicts ? { "data-conflicts": String(s.conflicts) } : {}),
    },
    el("div", { class: "case-main" }, link, el("span", { class: "stage-chip", "data-testid": "case-stage" }, s.stage.label)),
    el(
      "div",
      { class: "muted" },
      s.others.length ? `Współpracują: ${s.others.join(", ")}` : "Tylko Ty",
      s.nextVisit ? ` · wizyta ${day(s.nextVisit)}` : "",
      s.readOnly ? " · tylko do odczytu" : "",
    ),
    s.overdue.length ? el("div", { class: "late", "data-testid": "overdue" }, `Po terminie: ${s.overdue.join("; ")}`) : "",
    s.conflicts ? el("div", { class: "conflict" }, `Zapisano naraz w ${s.conflicts} miejscach — otwórz, aby rozstrzygnąć`) : "",
  )
}

export async function showCaseload(host: HTMLElement, context: AppContext): Promise<() => void> {
  const started = performance.now()
  const kept = await keptRows(context)
  let cases: CaseSummary[] = kept ?? []
  let missing = 0
  const search = input({ type: "search", placeholder: "Szukaj: nazwisko, adres, powód zgłoszenia", "data-testid": "search" })
  const list = el("ul", { class: "caseload", "data-testid": "caseload" })
  const count = el("p", { class: "muted", "data-testid": "case-count" })
  const notes = el("div", {})
  const draw = () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean)
    const shown = cases.filter(c => words.every(w => c.searchText.includes(w)))
    list.replaceChildren(...shown.map(row))
    count.textContent = words.length ? `Znaleziono: ${shown.length} z ${cases.length}` : `Spraw: ${cases.length}`
    if (cases.length === 0) list.append(el("li", { class: "muted" }, "Nie masz jeszcze spraw na tym urządzeniu."))
    notes.replaceChildren(
      missing ? el("p", { class: "muted", "data-testid": "missing" }, `Nie pobrano jeszcze ${missing} spraw — pojawią się po połączeniu z serwerem.`) : "",
    )
  }
  search.addEventListener("input", draw)
  host.replaceChildren(
    el("h2", {}, "Moje sprawy"),
    el(
      "div",
      { class: "row" },
      search,
      mayOpenCases(context.me) ? el("a", { href: href({ screen: "new-case" }), class: "button", "data-testid": "new-case" }, "Nowa sprawa") : "",
    ),
    count,
    notes,
    list,
  )
  // The documents themselves: read now (the list waits for them when no index is kept), and the
  // list redrawn from them and kept when they are.
  let stopped = false
  const fresh = loadCaseload(context).then(loaded => {
    if (stopped) return
    cases = loaded.cases
    missing = loaded.missing
    draw()
    host.dataset.readInMs = String(Math.round(performance.now() - started))
    void keepRows(context, loaded.cases)
  })
  if (kept) {
    host.dataset.fromIndex = ""
    fresh.catch(error => reportError(list, error))
  } else {
    await fresh
  }
  draw()
  // For the benchmark: the time from the screen's start to the list on screen.
  host.dataset.listedInMs = String(Math.round(performance.now() - started))
  return () => {
    stopped = true
  }
}
