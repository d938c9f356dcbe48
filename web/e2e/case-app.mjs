// The case app's stories in headless Chromium (Debian's `chromium`, playwright-core), with
// profiles kept on disk so that closing the browser and opening it again is what it is on a
// tablet. tests/tests/case_app.rs sets up the server, runs this, then checks with the Rust SDK
// (a second device) what the browsers wrote. Prints one JSON line.
//
// Inputs, in the environment: BASE_URL, SERVER_CERT, CHROMIUM (see e2e/browser.mjs) and
//   CASE_SPEC  JSON: {profiles: folder for the browsers' profiles, pin,
//              worker: {code, login}, workerSecond: {code, login},
//              school: {code, login, institution, sector},
//              family: {title, person, reason}, goalDeadline, schoolText}
//
// The stories:
//   1. the worker signs in, goes offline, creates a case and takes it from the referral through
//      the screening, the diagnosis and the IPP to a signed contract (the stage bar offering only
//      what the rules allow, and saying why); closes the browser, opens it again offline and
//      finds everything; comes online and the server gets it (the Rust side checks);
//   2. the worker shares the case with the school; the school member's browser lists only that
//      case and writes the school's diagnosis sector, the others being read-only;
//   3. the worker's second device and the first set the same goal's status while both are
//      offline; online, both show "Zapisano naraz" with who set which value and when, and one
//      tap on the second device settles it on both.

import { join } from "node:path"

import { launchPersistent, note, until, watch } from "./browser.mjs"
import { blockedReason, enter, move, newCase, openCase, runStory, stage, syncState, typeInto } from "./case-app-steps.mjs"

const opened = []

async function device(spec, name, { offline = false } = {}) {
  const context = await launchPersistent(join(spec.profiles, name))
  if (offline) await context.setOffline(true)
  const page = context.pages()[0] ?? (await context.newPage())
  const problems = []
  const warnings = []
  watch(page, problems)
  page.on("console", m => m.type() === "warning" && warnings.push(m.text()))
  const d = { name, context, page, problems, warnings }
  opened.push(d)
  return d
}

async function close(d) {
  await d.context.close()
  opened.splice(opened.indexOf(d), 1)
}

/** Story 1, up to the signed contract, offline. Returns the case's document id. */
async function workerTakesCaseToContract(page, spec, result) {
  note("the worker goes offline")
  await page.context().setOffline(true)
  await syncState(page, "offline")

  note("creates a case offline")
  const id = await newCase(page, spec.family)
  result.stageAtStart = await stage(page)

  note("the stage bar offers only the screening and says nothing else is open")
  result.movesAtReferral = await page.$$eval("[data-move]", bs => bs.map(b => b.dataset.move))
  await move(page, "screening")

  note("diagnosis is blocked until the screening decision, with the rule's reason")
  result.blockedBeforeScreening = await blockedReason(page, "diagnosis")
  await page.selectOption("[data-testid=screening-choice]", "qualified")
  await page.fill("[data-testid=screening-notes]", "Rodzina chce współpracować; potrzebne wsparcie szkoły.")
  await page.click("[data-testid=save-screening]")
  await page.locator("[data-testid=move-diagnosis]").waitFor({ timeout: 20_000 })
  await move(page, "diagnosis")

  note("writes the social sector of the diagnosis")
  result.blockedBeforeDiagnosis = await blockedReason(page, "ipp")
  await typeInto(page, "diagnosis/social", "Rodzina po eksmisji, matka bez pracy, syn opuszcza lekcje.")
  await page.locator("[data-testid=move-ipp]").waitFor({ timeout: 20_000 })
  await move(page, "ipp")

  note("adds an IPP goal")
  result.blockedBeforeGoal = await blockedReason(page, "contract")
  await page.fill("[data-testid=goal-specific]", "Syn chodzi do szkoły codziennie.")
  await page.fill("[data-testid=goal-measurable]", "Frekwencja co najmniej 90% w miesiącu.")
  await page.fill("[data-testid=goal-achievable]", "Pedagog szkolny i korepetycje.")
  await page.fill("[data-testid=goal-relevant]", "Bez tego syn nie zda do następnej klasy.")
  await page.fill("[data-testid=goal-deadline]", spec.goalDeadline)
  await page.click("[data-testid=add-goal]")
  await page.locator("article.goal").waitFor({ timeout: 20_000 })
  await move(page, "contract")

  note("writes the contract and records its signing in person")
  result.blockedBeforeSigning = await blockedReason(page, "delivery")
  await typeInto(page, "contract/text", "Matka dopilnuje obecności syna w szkole; GOPS zapewni korepetycje.")
  note("a remote acceptance without the note is refused with the catalogue's message")
  await page.fill("[data-testid=signer]", spec.family.person)
  await page.selectOption("[data-testid=signing-mode]", "phone")
  await page.click("[data-testid=sign]")
  await page.locator("[data-section=contract] [data-testid=refusal]").waitFor({ timeout: 20_000 })
  result.remoteWithoutNote = await page.textContent("[data-section=contract] [data-testid=refusal]")
  note("the card is redrawn by an edit elsewhere: the unsent signing form keeps what was typed")
  await page.evaluate(() => (window.drawnForm = document.querySelector("[data-testid=sign-form]")))
  await typeInto(page, "contract/text", " Spotkania co tydzień.")
  // The card is drawn again once the typing pauses: a new form node.
  await until(page, () => document.querySelector("[data-testid=sign-form]") !== window.drawnForm)
  result.draftAfterRedraw = {
    signer: await page.inputValue("[data-testid=signer]"),
    mode: await page.inputValue("[data-testid=signing-mode]"),
  }
  await page.selectOption("[data-testid=signing-mode]", "in_person")
  await page.click("[data-testid=sign]")
  await until(page, () => document.querySelectorAll("[data-testid=signings] li").length === 1)
  // Sent: the form is empty again for the next signing.
  await until(page, () => document.querySelector("[data-testid=signer]")?.value === "")
  await page.locator("[data-testid=move-delivery]").waitFor({ timeout: 20_000 })

  note("writes a monitoring note in two taps")
  await page.click("[data-testid=contact-home_visit]")
  await page.click("[data-testid=save-note]")
  await until(page, () => document.querySelectorAll("[data-testid=notes] li").length === 1)
  return id
}

async function scenario(spec, base) {
  const result = {}
  note("story 1: the worker's tablet")
  let a = await device(spec, "worker")
  await enter(a.page, base, spec.worker, spec.pin)
  await syncState(a.page, "synced")
  const id = await workerTakesCaseToContract(a.page, spec, result)
  result.document = id

  note("closes the browser and opens it again, offline")
  await close(a)
  a = await device(spec, "worker", { offline: true })
  await enter(a.page, base, spec.worker, spec.pin)
  await openCase(a.page, spec.family.title)
  result.afterReopen = {
    stage: await stage(a.page),
    signings: await a.page.$$eval("[data-testid=signings] li", l => l.length),
    notes: await a.page.$$eval("[data-testid=notes] li", l => l.length),
    diagnosis: await a.page.inputValue('[data-bind="diagnosis/social"]'),
  }

  note("comes online; the server gets everything")
  await a.context.setOffline(false)
  // "Everything sent" also for the documents that had nothing new to send after the reopening.
  await syncState(a.page, "synced")

  note("story 2: shares the case with the school")
  await a.page.selectOption("[data-testid=share-kind]", "institution")
  await a.page.fill("[data-testid=share-who]", spec.school.institution)
  await a.page.click("[data-testid=share]")
  await until(a.page, i => document.querySelector("[data-testid=share-result]")?.textContent.includes(i), spec.school.institution)

  const s = await device(spec, "school")
  await enter(s.page, base, spec.school, spec.pin)
  await s.page.locator(".case-row").first().waitFor({ timeout: 20_000 })
  result.schoolCaseload = await s.page.$$eval(".case-row a", l => l.map(a => a.textContent))
  await openCase(s.page, spec.family.title)
  result.schoolReadOnly = await s.page.$$eval("[data-section=diagnosis] textarea", areas =>
    Object.fromEntries(areas.map(t => [t.dataset.bind, t.readOnly])),
  )
  result.schoolSeesContract = (await s.page.$("[data-section=contract]")) !== null
  note("the school writes its sector")
  await typeInto(s.page, `diagnosis/${spec.school.sector}`, spec.schoolText)
  await syncState(s.page, "synced")
  await until(a.page, ([b, t]) => document.querySelector(`[data-bind="${b}"]`)?.value.includes(t), [`diagnosis/${spec.school.sector}`, spec.schoolText])
  await close(s)

  note("story 3: the same goal's status on two devices offline")
  const b = await device(spec, "worker-second")
  await enter(b.page, base, spec.workerSecond, spec.pin)
  await openCase(b.page, spec.family.title)
  await syncState(b.page, "synced")
  await a.context.setOffline(true)
  await b.context.setOffline(true)
  await syncState(a.page, "offline")
  await syncState(b.page, "offline")
  await a.page.selectOption("article.goal [data-testid=goal-status]", "in_progress")
  await b.page.selectOption("article.goal [data-testid=goal-status]", "dropped")
  await a.context.setOffline(false)
  await b.context.setOffline(false)
  for (const page of [a.page, b.page]) {
    await page.locator("article.goal [data-testid=conflict]").waitFor({ timeout: 20_000 })
  }
  result.conflictShown = await b.page.textContent("article.goal [data-testid=conflict]")
  result.conflictOnFirst = await a.page.textContent("article.goal [data-testid=conflict]")
  note("one tap settles it: the second device keeps the value shown first (the one on screen)")
  const keep = b.page.locator("article.goal [data-testid=conflict] [data-testid=resolve]").first()
  result.conflictChosen = await keep.getAttribute("data-choose")
  await keep.click()
  for (const page of [a.page, b.page]) {
    await page.locator("article.goal [data-testid=conflict]").waitFor({ state: "detached", timeout: 20_000 })
  }
  result.statusAfterSettling = await a.page.$eval("article.goal [data-testid=goal-status]", s => s.value)
  await syncState(b.page, "synced")
  // Requests that fail while the browser is offline are what offline means, not a problem.
  const offline = /ERR_INTERNET_DISCONNECTED/
  result.problems = opened.flatMap(d => d.problems.filter(p => !offline.test(p)).map(p => `${d.name}: ${p}`))
  for (const d of [...opened]) await close(d)
  return result
}

runStory("CASE_SPEC", opened, scenario, async d => ({
  online: await d.page.evaluate(() => navigator.onLine).catch(e => String(e)),
  goal: await d.page.$eval("article.goal", g => `${g.querySelector("select")?.value} ${g.innerText.slice(-300)}`).catch(e => String(e)),
  warnings: d.warnings,
  history: await d.page.$eval("[data-testid=changes-since]", h => h.innerText.slice(0, 300)).catch(e => String(e)),
}))
