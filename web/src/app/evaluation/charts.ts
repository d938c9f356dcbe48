// The dashboard's charts (Chart.js, bundled by Vite, only the parts used): one bar chart per
// breakdown of the region's figures and per dimension (cases by gmina, powiat, PZK, month). A
// hidden (suppressed) figure is a gap in its chart, and its label says "ukryte".

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Tooltip,
  type ChartConfiguration,
} from "chart.js"

import { el } from "../screens/dom"
import { breakdown, groups, type Cell, type Figures } from "./figures"
import { DIMENSIONS, keyLabel, measureLabel } from "./labels"

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip)

/** The region's breakdowns drawn as charts, in this order. */
const BREAKDOWNS = [
  "cases_by_stage",
  "days_in_stage",
  "contacts_by_mode",
  "goals_by_status",
  "services_used_by_sector",
  "referrals_by_sector",
  "attendance_by_sector",
  "work_plan_milestones",
]

/** Measures drawn across the groups of a dimension. */
const ACROSS: Array<[dimension: string, measure: string]> = [
  ["gmina", "cases"],
  ["powiat", "cases"],
  ["pzk", "cases"],
  ["month", "cases"],
  ["pzk", "meetings_held"],
  ["month", "meetings_held"],
]

interface Series {
  id: string
  title: string
  labels: string[]
  values: Array<number | null>
}

const label = (text: string, cell: Cell | undefined) => (cell && cell.suppressed ? `${text} (ukryte)` : text)

function series(figures: Figures): Series[] {
  const all: Series[] = []
  for (const measure of BREAKDOWNS) {
    const cells = breakdown(figures, "region", "region", measure)
    if (cells.length === 0) continue
    all.push({
      id: measure,
      title: measureLabel(measure),
      labels: cells.map(c => label(keyLabel(c.key), c)),
      values: cells.map(c => c.value),
    })
  }
  for (const [dimension, measure] of ACROSS) {
    const cells = groups(figures, dimension).map(g => breakdown(figures, dimension, g, measure)[0])
    if (!cells.some(c => c !== undefined)) continue
    const names = groups(figures, dimension)
    all.push({
      id: `${dimension}-${measure}`,
      title: `${measureLabel(measure)}: ${DIMENSIONS[dimension].toLowerCase()}`,
      labels: names.map((g, i) => label(g === "unknown" ? "nieprzypisane" : g, cells[i])),
      values: cells.map(c => c?.value ?? null),
    })
  }
  return all
}

/** Draws the charts into `host`; returns how to destroy them. */
export function drawCharts(host: HTMLElement, figures: Figures): () => void {
  const charts: Chart[] = []
  host.replaceChildren()
  for (const s of series(figures)) {
    const canvas = el("canvas", { "data-testid": "eval-chart", "data-chart": s.id, role: "img", "aria-label": s.title }) as HTMLCanvasElement
    host.append(el("figure", { class: "eval-chart" }, el("figcaption", {}, s.title), el("div", { class: "eval-canvas" }, canvas)))
    const config: ChartConfiguration<"bar", Array<number | null>, string> = {
      type: "bar",
      data: { labels: s.labels, datasets: [{ label: s.title, data: s.values, backgroundColor: "#2f6f8f" }] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true } },
      },
    }
    charts.push(new Chart(canvas, config))
  }
  if (charts.length === 0) host.append(el("p", { class: "muted" }, "Brak danych w wybranym zakresie."))
  return () => charts.forEach(c => c.destroy())
}
