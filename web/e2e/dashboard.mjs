// The evaluation dashboard of the case app (`/app/#/ewaluacja`) in Chromium:
//   1. a ROPS coordinator signs in, opens "Ewaluacja" from the navigation; every chart's canvas
//      is drawn (has painted pixels); the table lists the region's figures, a small gmina's
//      shown as hidden;
//   2. she narrows the figures to one gmina: the table's figures change;
//   3. she downloads the CSV of that scope;
//   4. a social worker signs in on another browser: no "Ewaluacja" in her navigation, and the
//      dashboard's address shows a refusal.
//
// tests/tests/dashboard.rs runs this (see browser.mjs for the shared inputs). Its own input,
// DASHBOARD_SPEC, is JSON: {profiles: [coordinator's, worker's], pin, coordinator: {login, code},
// worker: {login, code}, gmina}.

import { readFileSync } from "node:fs"

import { env, launchPersistent, note, run, until, WAIT_MS, watch } from "./browser.mjs"
import { enter } from "./case-app-steps.mjs"

const spec = JSON.parse(env("DASHBOARD_SPEC"))
const base = env("BASE_URL")
const problems = []
const pages = []

/** The table's rows as the analyst reads them. */
const tableRows = page =>
  page.$$eval("[data-testid=eval-row]", rows =>
    rows.map(r => ({
      dimension: r.dataset.dimension,
      group: r.dataset.group,
      measure: r.dataset.measure,
      key: r.dataset.key,
      suppressed: r.hasAttribute("data-suppressed"),
      text: r.querySelector("[data-testid=eval-value]").textContent,
    })),
  )

/** How many charts there are and how many of them have painted pixels. */
const paintedCharts = page =>
  page.$$eval("[data-testid=eval-chart]", canvases => {
    const painted = canvases.filter(c => {
      if (c.width === 0 || c.height === 0) return false
      const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data
      for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true
      return false
    })
    return { charts: canvases.length, painted: painted.length, ids: canvases.map(c => c.dataset.chart) }
  })

async function scenario() {
  const result = {}
  const coordinatorBrowser = await launchPersistent(spec.profiles[0])
  const page = coordinatorBrowser.pages()[0] ?? (await coordinatorBrowser.newPage())
  pages.push(page)
  watch(page, problems)

  note("the coordinator signs in and opens the dashboard")
  await enter(page, base, spec.coordinator, spec.pin)
  await page.click("[data-testid=nav-evaluation]")
  await page.locator("[data-testid=eval-table]").waitFor({ state: "visible", timeout: WAIT_MS })
  await until(page, () => {
    const canvases = [...document.querySelectorAll("[data-testid=eval-chart]")]
    return (
      canvases.length > 0 &&
      canvases.every(c => {
        if (c.width === 0 || c.height === 0) return false
        const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true
        return false
      })
    )
  })
  result.charts = await paintedCharts(page)
  result.region = await tableRows(page)
  result.status = await page.textContent("[data-testid=eval-status]")
  result.retentionPeriod = await page.textContent("[data-testid=retention-period]")
  result.retention = await page.$$eval("[data-testid=retention-row]", rows =>
    rows.map(r => ({ case: r.dataset.case, eraseOn: r.dataset.eraseOn, notified: r.dataset.notified, text: r.textContent })),
  )

  note(`the coordinator narrows the figures to gmina ${spec.gmina}`)
  await page.selectOption("[data-testid=eval-gmina]", spec.gmina)
  await page.click("[data-testid=eval-apply]")
  await until(page, g => (document.querySelector("[data-testid=eval-status]")?.dataset.scope ?? "").includes(g), spec.gmina)
  result.gmina = await tableRows(page)
  result.gminaCharts = await paintedCharts(page)

  note("the coordinator downloads the CSV")
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: WAIT_MS }),
    page.click("[data-testid=eval-csv]"),
  ])
  result.csvName = download.suggestedFilename()
  result.csv = readFileSync(await download.path(), "utf8")
  await coordinatorBrowser.close()

  note("a social worker signs in: no dashboard for her")
  const workerBrowser = await launchPersistent(spec.profiles[1])
  const worker = workerBrowser.pages()[0] ?? (await workerBrowser.newPage())
  pages.splice(0, pages.length, worker)
  watch(worker, problems)
  await enter(worker, base, spec.worker, spec.pin)
  result.workerNav = await worker.$$eval("[data-testid^=nav-]", links => links.map(a => a.dataset.nav))
  await worker.evaluate(() => {
    location.hash = "#/ewaluacja"
  })
  const refusal = worker.locator("[data-testid=screen-error]")
  await refusal.waitFor({ state: "visible", timeout: WAIT_MS })
  result.workerRefusal = await refusal.textContent()
  result.workerTable = await worker.locator("[data-testid=eval-table]").count()
  await workerBrowser.close()
  result.problems = problems
  return result
}

run(scenario, async () => Promise.all(pages.map(p => p.content().then(html => html.slice(0, 4000)))))
