// The rest of a social worker's work with a family in the case app, in headless Chromium with
// profiles on disk (tests/tests/case_app_stories.rs sets up the server, runs this, then checks
// on the server, with the Rust SDK, what the browsers wrote). Prints one JSON line.
//
// Inputs, in the environment: BASE_URL, SERVER_CERT, CHROMIUM (see e2e/browser.mjs) and
//   STORIES_SPEC  JSON: {profiles, pin, worker: {code, login}, school: {code, login},
//                 family: {document, title}, colleague, service,
//                 newFamily: {person, reason}, contact: {address, badPhone, phone, phoneShown},
//                 question, answer, evaluation}
//
// The stories:
//   1. "Dziś": the family's planned visit, its IPP goal past its deadline and its monitoring
//      due show up; a new case gets a next-visit date and shows up too; the new case is not
//      taken in (screening) and closed;
//   2. the family's card: the address and phone (a wrong number refused in Polish), a service
//      from the PZK list and its status, the consent to share with the school, the case shared
//      with it, a consultation asked;
//   3. the school's member answers the consultation in her browser; the worker sees the answer,
//      and "what changed since my last visit" lists the school's answer, by whom;
//   4. the evaluation, the 9.2 decision, the hand-over to a colleague, the case handed over;
//   5. the worker takes the case back from the school: it leaves the school's list and the
//      school's device store.

import { WAIT_MS, note, shot, until } from "./browser.mjs"
import {
  blockedReason,
  caseload,
  chunkKeys,
  enter,
  move,
  newCase,
  openCase,
  openDevice,
  runStory,
  stage,
  syncState,
  typeInto,
} from "./case-app-steps.mjs"

const opened = []


/** Goes to `screen` until `check(page)` holds: screens read the device's store when shown. */
async function untilShown(page, screen, check) {
  // "Zgłoszenia" is the other screen for the caseload: a partner has no "Dziś" tab.
  const marker = { today: "[data-today=visit]", caseload: "[data-testid=caseload]", referrals: "[data-testid=new-referral]" }
  const other = screen === "today" ? "caseload" : "referrals"
  const show = async name => {
    await page.click(`[data-testid=nav-${name}]`)
    await page.locator(`[data-testid=screen] ${marker[name]}`).waitFor({ timeout: WAIT_MS })
  }
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    await show(other)
    await show(screen)
    const value = await check(page)
    if (value) return value
    if (Date.now() > deadline) throw new Error(`${screen}: the condition did not hold`)
  }
}

/** The "Dziś" lists: kind -> the case ids listed. */
const todayLists = page =>
  page.$$eval("[data-today]", sections =>
    Object.fromEntries(sections.map(s => [s.dataset.today, [...s.querySelectorAll("li")].map(li => li.dataset.case)])),
  )

async function dayStories(page, spec, result) {
  note("story 1: Dziś shows the family's visit, its overdue goal and its monitoring due")
  const family = spec.family.document
  result.today = await untilShown(page, "today", async p => {
    const lists = await todayLists(p)
    return lists.visit?.includes(family) ? lists : null
  })
  await shot(page, "dzis")
  note("a new case gets its next visit today, and shows up in Dziś")
  const fresh = await newCase(page, spec.newFamily)
  result.newCase = fresh
  const day = await page.evaluate(() => new Date().toLocaleDateString("sv-SE", { timeZone: "Europe/Warsaw" }))
  await page.fill("[data-testid=next-visit]", day)
  await page.click("[data-testid=save-next-visit]")
  await until(page, d => document.querySelector("[data-testid=next-visit]")?.value === d, day)
  result.todayAfter = await untilShown(page, "today", async p => {
    const lists = await todayLists(p)
    return lists.visit?.includes(fresh) ? lists : null
  })
  result.today.day = day
  note("the new case is not taken in, and closed")
  await page.click(`[data-today=visit] [data-case="${fresh}"] a`)
  await page.locator("[data-testid=case-card]").waitFor({ timeout: WAIT_MS })
  await move(page, "screening")
  await page.selectOption("[data-testid=screening-choice]", "not_qualified")
  await page.fill("[data-testid=screening-notes]", "Rodzina nie chce pomocy; sprawa w szkole rozwiązana.")
  await page.click("[data-testid=save-screening]")
  await page.locator("[data-testid=move-closed]").waitFor({ timeout: WAIT_MS })
  await move(page, "closed")
  result.newCaseStage = await stage(page)
}

async function familyCard(page, spec, result) {
  note("story 2: the family's card; a wrong phone number is refused in Polish")
  await openCase(page, spec.family.title)
  await page.fill("[data-testid=address-input]", spec.contact.address)
  await page.fill("[data-testid=phone-input]", spec.contact.badPhone)
  await page.click("[data-testid=save-contact]")
  const refusal = page.locator("[data-section=household] [data-testid=refusal]")
  await refusal.waitFor({ timeout: WAIT_MS })
  result.phoneRefusal = await refusal.textContent()
  note("the right number is kept, shown as Polish readers write it")
  await page.fill("[data-testid=phone-input]", spec.contact.phone)
  await page.click("[data-testid=save-contact]")
  await until(page, shown => document.querySelector("[data-testid=phone]")?.textContent === shown, spec.contact.phoneShown)
  await shot(page, "household", "[data-section=household]")
  result.contact = {
    address: await page.textContent("[data-testid=address]"),
    phone: await page.textContent("[data-testid=phone]"),
    tel: await page.getAttribute("[data-testid=phone]", "href"),
  }

  note("a service from the PZK list, and its status")
  await page.selectOption("[data-testid=service-choice]", spec.service)
  await page.click("[data-testid=add-service]")
  const row = `[data-service="${spec.service}"]`
  await page.locator(row).waitFor({ timeout: WAIT_MS })
  await page.selectOption(`${row} [data-testid=service-status]`, "active")
  await until(page, r => document.querySelector(r)?.dataset.status === "active", row)
  result.serviceRow = await page.textContent(row)

  note("the mother's consent to share with the school; the case shared with it")
  await page.fill("[data-testid=consent-institution]", "szkola")
  await page.fill("[data-testid=consent-by]", spec.family.title)
  await page.click("[data-testid=consent-give]")
  await page.locator("[data-consent][data-given=true]").waitFor({ timeout: WAIT_MS })
  result.consents = await page.$$eval("[data-consent]", l => l.map(c => c.textContent))
  // The server shares with an institution on the consent it holds: send it first.
  await syncState(page, "synced")
  await page.selectOption("[data-testid=share-kind]", "institution")
  await page.fill("[data-testid=share-who]", "szkola")
  await page.click("[data-testid=share]")
  await until(page, () => document.querySelector("[data-testid=share-result]")?.textContent.includes("szkola"))

  await shot(page, "services-consents", "[data-section=services]")
  note("a consultation asked of the school")
  await page.fill("[data-testid=question]", spec.question)
  await page.click("[data-testid=ask]")
  await page.locator("article.consultation").waitFor({ timeout: WAIT_MS })
  await syncState(page, "synced")
  await shot(page, "case-card")
  note("the worker leaves the card (her visit is remembered)")
  await caseload(page)
  await shot(page, "moje-sprawy")
}

async function schoolAnswers(s, base, spec, result) {
  note("story 3: the school's member answers the consultation in her browser")
  await enter(s.page, base, spec.school, spec.pin)
  await untilShown(s.page, "caseload", p => p.$$eval(".case-row a", (l, t) => l.some(a => a.textContent === t), spec.family.title))
  await openCase(s.page, spec.family.title)
  await s.page.fill("article.consultation [data-testid=answer-text]", spec.answer)
  await s.page.click("article.consultation [data-testid=answer]")
  await s.page.locator("article.consultation [data-answer]").waitFor({ timeout: WAIT_MS })
  await syncState(s.page, "synced")
  await shot(s.page, "partner-card")
  result.schoolHeld = (await chunkKeys(s.page)).some(k => k.includes(spec.family.document))
}

async function closing(page, spec, result) {
  note("story 4: the evaluation, the 9.2 decision and the hand-over to a colleague")
  await move(page, "evaluation")
  result.blockedBeforeDecision = await blockedReason(page, "handed_over")
  await typeInto(page, "evaluation", spec.evaluation)
  await page.selectOption("[data-testid=decision-choice]", "end")
  await page.click("[data-testid=save-decision]")
  await until(page, () => !document.querySelector("[data-testid=decision] p")?.textContent.startsWith("Nie zapisano"))
  result.decision = await page.textContent("[data-testid=decision] p")
  await page.fill("[data-testid=handover-target]", "gops")
  await page.fill("[data-testid=handover-worker]", spec.colleague)
  await page.fill("[data-testid=handover-note]", "Przejmuje rodzinę od przyszłego miesiąca.")
  await page.click("[data-testid=save-handover]")
  await until(page, c => document.querySelector("[data-testid=handover] p")?.textContent.includes(c), spec.colleague)
  await page.selectOption("[data-testid=share-kind]", "user")
  await page.fill("[data-testid=share-who]", spec.colleague)
  await page.click("[data-testid=share]")
  await until(page, c => document.querySelector("[data-testid=share-result]")?.textContent.includes(c), spec.colleague)
  await move(page, "handed_over")
  result.finalStage = await stage(page)
  await shot(page, "closing", "[data-section=closing]")
}

async function scenario(spec, base) {
  const result = {}
  const w = await openDevice(spec.profiles, "worker", opened)
  await enter(w.page, base, spec.worker, spec.pin)
  await syncState(w.page, "synced")
  await dayStories(w.page, spec, result)
  await familyCard(w.page, spec, result)

  const s = await openDevice(spec.profiles, "school", opened)
  await schoolAnswers(s, base, spec, result)

  note("the worker sees the answer; the history lists what changed since her last visit")
  await openCase(w.page, spec.family.title)
  await until(w.page, t => document.querySelector("article.consultation [data-answer]")?.textContent.includes(t), spec.answer)
  result.answerSeen = await w.page.textContent("article.consultation [data-answer]")
  result.historyHeading = await w.page.textContent("[data-section=history] p")
  await shot(w.page, "history", "[data-section=history]")
  result.historySince = await w.page.$$eval("[data-testid=changes-since] li", l => l.map(li => li.textContent))

  await closing(w.page, spec, result)

  note("story 5: the worker takes the case back from the school")
  await w.page.selectOption("[data-testid=share-kind]", "institution")
  await w.page.fill("[data-testid=share-who]", "szkola")
  await w.page.click("[data-testid=unshare]")
  await until(w.page, () => document.querySelector("[data-testid=share-result]")?.textContent.includes("instytucje — żadna"))
  await syncState(w.page, "synced")
  note("the school's list and store no longer hold the case")
  result.schoolCaseloadAfter = await untilShown(s.page, "caseload", async p => {
    const titles = await p.$$eval(".case-row a", l => l.map(a => a.textContent))
    return titles.includes(spec.family.title) ? null : { titles }
  })
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const left = (await chunkKeys(s.page)).filter(k => k.includes(spec.family.document))
    if (left.length === 0) break
    if (Date.now() > deadline) throw new Error(`the school's store still holds ${left.length} chunks of the case`)
  }
  result.schoolStoreCleared = true

  const offline = /ERR_INTERNET_DISCONNECTED/
  result.problems = opened.flatMap(d => d.problems.filter(p => !offline.test(p)).map(p => `${d.name}: ${p}`))
  for (const d of [...opened]) await d.context.close()
  opened.length = 0
  return result
}

runStory("STORIES_SPEC", opened, scenario)
