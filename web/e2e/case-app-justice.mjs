// Police and court information (GDPR art. 10) in headless Chromium: Anna, who runs the case,
// writes down what the police told her from the Niebieska Karta procedure in the card's
// "Informacje z procedur prawnych (art. 10 RODO)"; an entry without its content is refused in
// Polish. The police officer assigned to the case reads it on the same card; the school, which
// reads and writes the case, sees no trace of it, and its device never holds the document.
// tests/tests/case_app_justice.rs sets up the server and checks the rest in Rust. Prints one
// JSON line.
//
// Inputs, in the environment: BASE_URL, SERVER_CERT, CHROMIUM (see e2e/browser.mjs) and
//   JUSTICE_SPEC  JSON: {profiles, pin, case: document id, owner, police, school: {code, login},
//                 entry: {number, informedBy, content}}

import { WAIT_MS, note, shot, until } from "./browser.mjs"
import { chunkKeys, enter, openDevice, runStory, syncState } from "./case-app-steps.mjs"

const opened = []

/** Opens the case's card by its address and waits for it. */
async function openCard(page, base, id) {
  await page.goto(`${base}/app/#/sprawa/${id}`)
  await page.locator(`[data-testid=case-card][data-document="${id}"]`).waitFor({ timeout: WAIT_MS })
  // The card's parts are drawn: its head is there.
  await page.locator("[data-testid=case-card] .stage-bar").waitFor({ timeout: WAIT_MS })
}

const section = "[data-testid=case-card] [data-testid=justice]"

async function scenario(spec, base) {
  const result = {}
  const a = await openDevice(spec.profiles, "owner", opened)
  await enter(a.page, base, spec.owner, spec.pin)
  await syncState(a.page, "synced")
  await openCard(a.page, base, spec.case)
  note("Anna sees the section and writes down the police's information")
  await a.page.locator(section).waitFor({ timeout: WAIT_MS })
  result.ownerTitle = await a.page.textContent(`${section} h3`)
  await a.page.selectOption("[data-testid=justice-procedure]", "blue_card")
  await a.page.fill("[data-testid=justice-number]", spec.entry.number)
  await a.page.fill("[data-testid=justice-informed-by]", spec.entry.informedBy)
  note("without the content it is refused with the catalogue's words")
  await a.page.click("[data-testid=justice-add]")
  await a.page.locator(`${section} .refusal`).waitFor({ timeout: WAIT_MS })
  result.incomplete = await a.page.textContent(`${section} .refusal`)
  await a.page.fill("[data-testid=justice-content]", spec.entry.content)
  await a.page.click("[data-testid=justice-add]")
  await until(a.page, s => document.querySelectorAll(`${s} [data-entry]`).length === 1, section)
  result.ownerEntry = await a.page.innerText(`${section} [data-entry]`)
  await shot(a.page, "case-app-justice-owner", section)
  await syncState(a.page, "synced")

  note("the police officer assigned to the case reads it on the card")
  const p = await openDevice(spec.profiles, "police", opened)
  await enter(p.page, base, spec.police, spec.pin)
  await syncState(p.page, "synced")
  await openCard(p.page, base, spec.case)
  await until(p.page, s => document.querySelectorAll(`${s} [data-entry]`).length === 1, section)
  result.policeEntry = await p.page.innerText(`${section} [data-entry]`)

  note("the school, which works on the case, sees no trace of it")
  const s = await openDevice(spec.profiles, "school", opened)
  await enter(s.page, base, spec.school, spec.pin)
  await syncState(s.page, "synced")
  await openCard(s.page, base, spec.case)
  result.schoolCardText = await s.page.innerText("[data-testid=case-card]")
  result.schoolSection = await s.page.$$eval(section, l => l.length)
  result.schoolDocuments = (await chunkKeys(s.page)).map(k => JSON.parse(k)[0])
  await shot(s.page, "case-app-justice-school", "[data-testid=case-card]")

  result.problems = opened.flatMap(d => d.problems.map(x => `${d.name}: ${x}`))
  for (const d of [...opened]) await d.context.close()
  opened.length = 0
  return result
}

runStory("JUSTICE_SPEC", opened, scenario)
