// Rectification (GDPR art. 16) in headless Chromium: Anna corrects the mother's misspelt name
// on the case card with "Sprostuj": without a reason it is refused in Polish; with one, the
// household shows the new name and "Sprostowania (art. 16 RODO)" lists who corrected what,
// when and why, old → new. tests/tests/case_app_rectify.rs sets up the server and checks the
// rest in Rust. Prints one JSON line.
//
// Inputs, in the environment: BASE_URL, SERVER_CERT, CHROMIUM (see e2e/browser.mjs) and
//   RECTIFY_SPEC  JSON: {profiles, pin, case: document id, owner: {code, login},
//                 field: path, value, reason}

import { WAIT_MS, note, shot, until } from "./browser.mjs"
import { enter, openDevice, runStory, syncState } from "./case-app-steps.mjs"

const opened = []
const section = "[data-testid=case-card] [data-section=rectifications]"

async function scenario(spec, base) {
  const result = {}
  const a = await openDevice(spec.profiles, "owner", opened)
  await enter(a.page, base, spec.owner, spec.pin)
  await syncState(a.page, "synced")
  await a.page.goto(`${base}/app/#/sprawa/${spec.case}`)
  await a.page.locator(section).waitFor({ timeout: WAIT_MS })
  result.before = await a.page.innerText("[data-testid=household]")
  note("Anna picks the mother's name and types the correct one, without a reason")
  await a.page.selectOption("[data-testid=rectify-field]", spec.field)
  await a.page.fill("[data-testid=rectify-value]", spec.value)
  await a.page.click("[data-testid=rectify-save]")
  await a.page.locator(`${section} .refusal`).waitFor({ timeout: WAIT_MS })
  result.noReason = await a.page.textContent(`${section} .refusal`)
  note("with the reason the correction is recorded and listed")
  await a.page.fill("[data-testid=rectify-reason]", spec.reason)
  await a.page.click("[data-testid=rectify-save]")
  await until(a.page, s => document.querySelectorAll(`${s} [data-rectification]`).length === 1, section)
  result.listed = await a.page.innerText(`${section} [data-rectification]`)
  result.after = await a.page.innerText("[data-testid=household]")
  await shot(a.page, "case-app-rectify", section)
  await syncState(a.page, "synced")
  result.problems = opened.flatMap(d => d.problems.map(x => `${d.name}: ${x}`))
  for (const d of [...opened]) await d.context.close()
  opened.length = 0
  return result
}

runStory("RECTIFY_SPEC", opened, scenario)
