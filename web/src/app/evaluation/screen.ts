// The evaluation dashboard (`#/ewaluacja`) for ROPS coordinators and analysts (and admins):
// the region's de-identified figures, narrowed to a PZK, gmina or powiat and a range of months,
// as charts and as a table; a hidden figure (a group smaller than the server's minimum) shows
// as "< N (ukryte)"; the same figures download as CSV; below, the retention schedule of finished
// cases (./retention.ts). Others get the server's refusal.

import type { AppContext } from "../context"
import { button, el, field } from "../screens/dom"
import { drawCharts } from "./charts"
import { groups, loadCsv, loadFigures, mayEvaluate, WHOLE_REGION, type Figures, type Scope } from "./figures"
import { cellText, DIMENSIONS, keyLabel, measureLabel } from "./labels"
import { loadSchedule, scheduleSection } from "./retention"
import "./evaluation.css"

const DIMENSION_ORDER = ["region", "powiat", "gmina", "pzk", "month"]

function table(figures: Figures): HTMLElement {
  const cells = [...figures.cells].sort(
    (a, b) =>
      DIMENSION_ORDER.indexOf(a.dimension) - DIMENSION_ORDER.indexOf(b.dimension) ||
      a.group.localeCompare(b.group) ||
      a.measure.localeCompare(b.measure) ||
      a.key.localeCompare(b.key),
  )
  const head = el(
    "tr",
    {},
    ...["Wymiar", "Grupa", "Wskaźnik", "Podział", "Wartość"].map(h => el("th", { scope: "col" }, h)),
  )
  const rows = cells.map(c =>
    el(
      "tr",
      {
        "data-testid": "eval-row",
        "data-dimension": c.dimension,
        "data-group": c.group,
        "data-measure": c.measure,
        "data-key": c.key,
        ...(c.suppressed ? { "data-suppressed": "" } : {}),
      },
      el("td", {}, DIMENSIONS[c.dimension] ?? c.dimension),
      el("td", {}, c.group === "region" ? "cały region" : c.group === "unknown" ? "nieprzypisane" : c.group),
      el("td", {}, measureLabel(c.measure)),
      el("td", {}, c.key ? keyLabel(c.key) : "—"),
      el("td", { class: c.suppressed ? "suppressed" : "", "data-testid": "eval-value" }, cellText(c, figures.min_group)),
    ),
  )
  return el("table", { class: "eval-table", "data-testid": "eval-table" }, el("thead", {}, head), el("tbody", {}, ...rows))
}

/** A filter's select: "all" (an empty value) and every group of the dimension in the figures. */
function picker(all: Figures, dimension: string, everything: string): HTMLSelectElement {
  const s = el("select", { "data-testid": `eval-${dimension}` }) as HTMLSelectElement
  for (const group of ["", ...groups(all, dimension).filter(g => g !== "unknown")]) {
    const option = el("option", {}, group || everything) as HTMLOptionElement
    option.value = group
    s.append(option)
  }
  s.value = ""
  return s
}

export async function showEvaluation(host: HTMLElement, context: AppContext): Promise<() => void> {
  if (!mayEvaluate(context.me.roles)) {
    host.replaceChildren(
      el(
        "p",
        { class: "refusal", role: "alert", "data-testid": "screen-error" },
        "Ewaluacja jest dostępna dla koordynatorów ROPS i administratorów.",
      ),
    )
    return () => undefined
  }
  // The whole region's figures give the filters their choices.
  const [all, schedule] = await Promise.all([loadFigures(context.tokens, WHOLE_REGION), loadSchedule(context.tokens)])
  let scope: Scope = { ...WHOLE_REGION }
  const pzk = picker(all, "pzk", "wszystkie PZK")
  const gmina = picker(all, "gmina", "wszystkie gminy")
  const powiat = picker(all, "powiat", "wszystkie powiaty")
  const from = el("input", { type: "month", "data-testid": "eval-from" }) as HTMLInputElement
  const to = el("input", { type: "month", "data-testid": "eval-to" }) as HTMLInputElement
  const status = el("p", { class: "muted", "data-testid": "eval-status", role: "status" })
  const charts = el("div", { class: "eval-charts", "data-testid": "eval-charts" })
  const tableHost = el("div", { class: "eval-table-host" })
  const csv = el("a", { href: "#", download: "ewaluacja.csv", "data-testid": "eval-csv" }, "Pobierz CSV") as HTMLAnchorElement
  let destroy = () => undefined as void

  const show = (figures: Figures, scopeNow: Scope) => {
    destroy()
    destroy = drawCharts(charts, figures)
    tableHost.replaceChildren(table(figures))
    const parts = [
      scopeNow.pzk && `PZK ${scopeNow.pzk}`,
      scopeNow.gmina && `gmina ${scopeNow.gmina}`,
      scopeNow.powiat && `powiat ${scopeNow.powiat}`,
      (scopeNow.from || scopeNow.to) && `miesiące ${scopeNow.from || "…"} – ${scopeNow.to || "…"}`,
    ].filter(Boolean)
    status.textContent =
      `Zakres: ${parts.length ? parts.join(", ") : "cały region"}. Grupy mniejsze niż ${figures.min_group} ` +
      `spraw są ukryte („< ${figures.min_group}”).`
    status.dataset.scope = JSON.stringify(scopeNow)
  }
  const apply = async () => {
    const next: Scope = { pzk: pzk.value, gmina: gmina.value, powiat: powiat.value, from: from.value, to: to.value }
    const figures = await loadFigures(context.tokens, next)
    scope = next
    show(figures, scope)
  }
  csv.addEventListener("click", event => {
    event.preventDefault()
    void loadCsv(context.tokens, scope)
      .then(blob => {
        const url = URL.createObjectURL(blob)
        const a = el("a", { href: url, download: "ewaluacja.csv", hidden: "hidden" })
        document.body.append(a)
        a.click()
        a.remove()
        setTimeout(() => URL.revokeObjectURL(url), 60_000)
      })
      .catch(error => {
        status.textContent = `Nie udało się pobrać CSV: ${(error as Error).message}`
      })
  })

  host.replaceChildren(
    el("h2", {}, "Ewaluacja efektów"),
    el(
      "p",
      { class: "muted" },
      "Zanonimizowane wskaźniki regionu (etap IV modelu): bez imion, bez treści spraw, daty z dokładnością do miesiąca.",
    ),
    el(
      "form",
      { class: "eval-filters", "data-testid": "eval-filters" },
      field("PZK", pzk),
      field("Gmina (TERYT)", gmina),
      field("Powiat (TERYT)", powiat),
      field("Od miesiąca", from),
      field("Do miesiąca", to),
      button("Pokaż", apply, { "data-testid": "eval-apply" }),
      csv,
    ),
    status,
    charts,
    el("h3", {}, "Tabela wskaźników"),
    tableHost,
    el("h3", {}, "Retencja zakończonych spraw"),
    scheduleSection(schedule),
  )
  show(all, scope)
  return () => destroy()
}
