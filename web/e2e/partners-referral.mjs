// A referral (K7.2) in headless Chromium: the school's pedagogue writes a referral of a family
// while offline, comes online; the GOPS social worker finds it in "Zgłoszenia", accepts it and
// the case it opens shows the referrer; the pedagogue sees the outcome and its date, and cannot
// open the case. tests/tests/partners_app.rs sets up the server and checks the rest in Rust.
// Prints one JSON line.
//
// Inputs, in the environment: BASE_URL, SERVER_CERT, CHROMIUM (see e2e/browser.mjs) and
//   REFERRAL_SPEC  JSON: {profiles, pin, screens: folder for screenshots,
//                  pedagogue: {code, login}, worker: {code, login}, gops,
//                  family: {name, reason, contact, basisNote}}

import { join } from "node:path"

import { WAIT_MS, launchPersistent, note, until, watch } from "./browser.mjs"
import { enter, runStory, syncState } from "./case-app-steps.mjs"

const opened = []

async function device(spec, name) {
  const context = await launchPersistent(join(spec.profiles, name))
  const page = context.pages()[0] ?? (await context.newPage())
  const problems = []
  watch(page, problems)
  const d = { name, context, page, problems }
  opened.push(d)
  return d
}

const shot = (page, spec, name) => page.screenshot({ path: join(spec.screens, `partners-${name}.png`), fullPage: true })

/** The pedagogue writes the referral offline; returns its document id. */
async function pedagogueRefersOffline(page, spec, result) {
  note("the pedagogue opens a new referral; the form suggests the GOPS of the team")
  await page.click("[data-testid=nav-referrals]")
  await page.click("[data-testid=new-referral]")
  await page.locator("[data-testid=referral-form]").waitFor({ timeout: WAIT_MS })
  note("the connection drops")
  await page.context().setOffline(true)
  await syncState(page, "offline")
  result.suggestedTo = await page.inputValue("[data-testid=referral-to]")
  note("a referral without a reason is refused with the catalogue's words")
  await page.fill("[data-testid=referral-subject]", spec.family.name)
  await page.fill("[data-testid=referral-contact]", spec.family.contact)
  await page.$eval("[data-testid=referral-form]", f => f.querySelectorAll("[required]").forEach(e => e.removeAttribute("required")))
  await page.click("[data-testid=send-referral]")
  await page.locator("[data-testid=referral-form] [data-testid=refusal]:not([hidden])").waitFor({ timeout: WAIT_MS })
  result.incomplete = await page.textContent("[data-testid=referral-form] [data-testid=refusal]")
  note("fills in why, how soon and on what basis, and sends it")
  await page.fill("[data-testid=referral-reason]", spec.family.reason)
  await page.selectOption("[data-testid=referral-urgency]", "soon")
  await page.selectOption("[data-testid=referral-basis]", "consent")
  await page.fill("[data-testid=referral-basis-note]", spec.family.basisNote)
  await shot(page, spec, "referral-form")
  await page.click("[data-testid=send-referral]")
  await page.locator("[data-testid=referral-card]").waitFor({ timeout: WAIT_MS })
  result.statusOffline = await page.getAttribute("[data-testid=referral-card]", "data-status")
  return page.getAttribute("[data-testid=referral-card]", "data-document")
}

/** The tabs the app shows this user, by their data-nav names. */
const tabs = page => page.$$eval(".case-nav [data-nav]", links => links.map(a => a.dataset.nav))

async function scenario(spec, base) {
  const result = {}
  const p = await device(spec, "pedagogue")
  await enter(p.page, base, spec.pedagogue, spec.pin)
  await syncState(p.page, "synced")
  result.pedagogueTabs = await tabs(p.page)
  const referral = await pedagogueRefersOffline(p.page, spec, result)
  result.referral = referral

  note("the pedagogue comes online; the server gets the referral")
  await p.context.setOffline(false)
  await syncState(p.page, "synced")

  note("the GOPS worker opens Zgłoszenia and finds it in the inbox")
  const w = await device(spec, "worker")
  await enter(w.page, base, spec.worker, spec.pin)
  result.workerTabs = await tabs(w.page)
  await w.page.click("[data-testid=nav-referrals]")
  const row = w.page.locator(`[data-testid=referral-inbox] [data-referral="${referral}"]`)
  await row.waitFor({ timeout: WAIT_MS })
  result.inboxRow = await row.innerText()
  await shot(w.page, spec, "inbox")
  await row.locator("[data-testid=referral-link]").click()
  await w.page.locator("[data-testid=referral-card]").waitFor({ timeout: WAIT_MS })
  result.workerSees = {
    by: await w.page.textContent("[data-testid=referral-by]"),
    urgency: await w.page.textContent("[data-testid=referral-urgency]"),
    basis: await w.page.textContent("[data-testid=referral-basis]"),
  }
  await shot(w.page, spec, "referral-card")

  note("accepts it: the case opens with the referral")
  await w.page.click("[data-testid=accept-referral]")
  await w.page.locator("[data-testid=case-card]").waitFor({ timeout: WAIT_MS })
  result.case = await w.page.getAttribute("[data-testid=case-card]", "data-document")
  result.caseText = await w.page.innerText("[data-testid=case-card]")
  await syncState(w.page, "synced")
  await shot(w.page, spec, "case-from-referral")

  note("the pedagogue sees the outcome and its date")
  await p.page.click("[data-testid=nav-referrals]")
  await p.page.locator(`[data-testid=referrals-mine] [data-referral="${referral}"] a`).click()
  await until(p.page, () => document.querySelector("[data-testid=referral-card]")?.dataset.status === "accepted")
  result.pedagogueOutcome = await p.page.innerText("[data-section=referral-decision]")
  result.pedagogueCaseLink = (await p.page.$("[data-testid=referral-case]")) !== null
  await shot(p.page, spec, "referrer-outcome")

  note("the pedagogue cannot open the case")
  await p.page.goto(`${base}/app/#/sprawa/${result.case}`)
  await p.page.locator("[data-testid=screen-error]").waitFor({ timeout: WAIT_MS })
  result.pedagogueCaseError = await p.page.textContent("[data-testid=screen-error]")

  const offline = /ERR_INTERNET_DISCONNECTED/
  result.problems = opened.flatMap(d => d.problems.filter(x => !offline.test(x)).map(x => `${d.name}: ${x}`))
  for (const d of [...opened]) await d.context.close()
  opened.length = 0
  return result
}

runStory("REFERRAL_SPEC", opened, scenario, async d => ({
  screen: await d.page.$eval("[data-testid=screen]", s => s.innerText.slice(0, 600)).catch(e => String(e)),
}))
