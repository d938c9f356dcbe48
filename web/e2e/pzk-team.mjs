// Running a PZK team from the app, in headless Chromium: the animator creates the team's
// document ("Nowy zespół"), adds two member institutions with their representatives, names the
// leader family, writes the 29-month work plan, adds two services and retires one, signs the
// agreement (its text is then frozen) with its scan, and adds a recommendation; the school's
// pedagogue sees the team read-only with the reason, and so does a ROPS coordinator; the ROPS
// adviser assigned to the team edits the services list, and the animator's page shows the change. tests/tests/pzk_team_app.rs
// sets up the server and checks the document in Rust. Prints one JSON line.
//
// Inputs, in the environment: BASE_URL, SERVER_CERT, CHROMIUM (see e2e/browser.mjs) and
//   PZK_TEAM_SPEC  JSON: {profiles, pin, screens, teamName, plan: [[step, month, title]],
//                  animator, member, coordinator, adviser: {code, login}}

import { join } from "node:path"

import { WAIT_MS, note, until } from "./browser.mjs"
import { enter, openDevice, runStory, syncState } from "./case-app-steps.mjs"

const opened = []
const shot = (page, spec, name) => page.screenshot({ path: join(spec.screens, `pzk-${name}.png`), fullPage: true })
const count = (page, selector) => page.locator(selector).count()

/** Waits until `selector` matches `n` elements. */
const untilCount = (page, selector, n) =>
  until(page, ([s, n]) => document.querySelectorAll(s).length === n, [selector, n])

/** Opens the team's tab, again while its document has not reached this device. */
async function openTab(page, base, team, tab) {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    await page.goto(`${base}/app/#/pzk/${team}/${tab}`)
    const shown = page.locator(`[data-testid=pzk-tab][data-tab=${tab}], [data-testid=screen-error]`)
    await shown.first().waitFor({ timeout: WAIT_MS })
    if (await page.locator(`[data-testid=pzk-tab][data-tab=${tab}] section`).count()) return
    if (Date.now() > deadline) throw new Error(`the team's ${tab} never opened: ${await page.textContent("[data-testid=screen]")}`)
    await page.goto(`${base}/app/#/pzk`)
    await page.locator("[data-testid=team-list], [data-testid=team-empty]").first().waitFor({ timeout: WAIT_MS })
  }
}

const tab = async (page, slug) => {
  await page.click(`[data-pzk-tab=${slug}]`)
  await page.locator(`[data-testid=pzk-tab][data-tab=${slug}] section`).first().waitFor({ timeout: WAIT_MS })
}

async function addMember(page, id, name, sector, representative) {
  await page.fill("[data-testid=member-id]", id)
  await page.fill("[data-testid=member-name]", name)
  await page.selectOption("[data-testid=member-sector]", sector)
  await page.selectOption("[data-testid=member-role]", "member")
  await page.click("[data-testid=save-member]")
  const row = page.locator(`[data-member=${id}]`)
  await row.waitFor({ timeout: WAIT_MS })
  await row.locator("[data-testid=rep-name]").fill(representative[0])
  await row.locator("[data-testid=rep-function]").fill(representative[1])
  await row.locator("[data-testid=add-representative]").click()
  await page.locator(`[data-member=${id}] [data-testid=representatives] li`).first().waitFor({ timeout: WAIT_MS })
}

async function addService(page, description, capacity) {
  const before = await count(page, "[data-service]")
  await page.fill("[data-testid=service-description-input]", description)
  await page.selectOption("[data-testid=service-provider]", "szkola")
  await page.fill("[data-testid=service-capacity]", capacity)
  await page.click("[data-testid=save-service]")
  await untilCount(page, "[data-service]", before + 1)
}

async function animatorRunsTheTeam(spec, base, result) {
  note("the animator creates the team's document")
  const a = await openDevice(spec.profiles, "animator", opened)
  await enter(a.page, base, spec.animator, spec.pin)
  await a.page.goto(`${base}/app/#/pzk`)
  await a.page.click("[data-testid=new-team]")
  await a.page.fill("[data-testid=team-name-input]", spec.teamName)
  await shot(a.page, spec, "nowy-zespol")
  await a.page.click("[data-testid=create-team]")
  await a.page.locator("[data-testid=member-form]").waitFor({ timeout: WAIT_MS })
  result.team = a.page.url().match(/#\/pzk\/([^/]+)/)[1]

  note("two member institutions with their representatives, and the leader family")
  await addMember(a.page, "szkola", "Szkoła Podstawowa nr 1", "education", ["Ewa Nowak", "pedagog szkolny"])
  await addMember(a.page, "policja", "Komenda Powiatowa Policji", "police", ["Jan Kowal", "dzielnicowy"])
  await a.page.fill("[data-testid=leader-label]", "Rodzina liderska z Przykładowa")
  await a.page.fill("[data-testid=leader-note]", "Opowiada innym rodzinom, jak wyszła z kryzysu")
  await a.page.click("[data-testid=save-leader]")
  await a.page.locator("[data-testid=leader]").waitFor({ timeout: WAIT_MS })
  await shot(a.page, spec, "zespol")

  note("the 29-month work plan")
  await tab(a.page, "harmonogram")
  for (const [i, [step, month, title]] of spec.plan.entries()) {
    await a.page.fill("[data-testid=milestone-step]", step)
    await a.page.fill("[data-testid=milestone-month]", String(month))
    await a.page.fill("[data-testid=milestone-title]", title)
    await a.page.click("[data-testid=add-milestone]")
    await untilCount(a.page, "[data-milestone]", i + 1)
  }
  await a.page.locator("[data-month='1'] [data-testid=milestone-status]").selectOption("done")
  await until(a.page, () => document.querySelector("[data-month='1'] [data-testid=milestone-status]")?.value === "done")
  result.planLength = await a.page.textContent("[data-testid=plan-length]")
  result.planMonths = await a.page.$$eval("[data-testid=plan-month]", ms => ms.map(m => Number(m.dataset.month)))
  await shot(a.page, spec, "harmonogram")

  note("two services, one retired")
  await tab(a.page, "uslugi")
  await addService(a.page, "Korepetycje", "10")
  await addService(a.page, "Świetlica popołudniowa", "")
  await a.page.locator("[data-service]", { hasText: "Świetlica" }).locator("[data-testid=retire-service]").click()
  await a.page.locator("[data-service][data-retired=true]", { hasText: "Świetlica" }).waitFor({ timeout: WAIT_MS })
  await shot(a.page, spec, "uslugi")

  note("the agreement: a party, a signatory, signed (text frozen), its scan")
  await tab(a.page, "porozumienie")
  await a.page.fill("[data-testid=party-name]", "Gmina Przykładowo")
  await a.page.click("[data-testid=add-party]")
  await a.page.locator("[data-testid=parties] li").first().waitFor({ timeout: WAIT_MS })
  await a.page.fill("[data-testid=signatory-person]", "Jan Wójcik")
  await a.page.fill("[data-testid=signatory-institution]", "Gmina Przykładowo")
  await a.page.fill("[data-testid=signatory-function]", "Wójt Gminy")
  await a.page.click("[data-testid=add-signatory]")
  await a.page.locator("[data-testid=signatories] li").first().waitFor({ timeout: WAIT_MS })
  await a.page.click("[data-testid=sign-agreement]")
  await a.page.locator("[data-testid=agreement-frozen]").waitFor({ timeout: WAIT_MS })
  result.agreementStatus = await a.page.textContent("[data-testid=agreement-status]")
  result.frozenNote = await a.page.textContent("[data-testid=agreement-frozen]")
  result.textReadOnly = await a.page.$eval("[data-testid=agreement-text]", t => t.readOnly)
  result.textSaveButtons = await count(a.page, "[data-testid=save-agreement-text]")
  result.partyForms = await count(a.page, "[data-testid=add-party]")
  const pdf = Buffer.from("%PDF-1.4\n% porozumienie PZK\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
  await a.page.setInputFiles("[data-testid=scan-file]", { name: "porozumienie.pdf", mimeType: "application/pdf", buffer: pdf })
  await a.page.locator("[data-section=agreement-scan] k-zalacznik").waitFor({ timeout: WAIT_MS })
  await shot(a.page, spec, "porozumienie")

  note("a recommendation of the legal kind, part of the 9.2 decision")
  await tab(a.page, "rekomendacje")
  await a.page.fill("[data-testid=recommendation-input]", "Uchwała rady gminy o stałym dyżurze dzielnicowego w szkole")
  await a.page.selectOption("[data-testid=recommendation-category]", "legal")
  await a.page.check("[data-testid=recommendation-92]")
  await a.page.click("[data-testid=add-recommendation]")
  await a.page.locator("[data-category=legal] [data-recommendation]").waitFor({ timeout: WAIT_MS })
  await syncState(a.page, "synced")
  await shot(a.page, spec, "rekomendacje")
  return a
}

async function memberReads(spec, base, result) {
  note("the school's pedagogue sees the team read-only, with the reason")
  const m = await openDevice(spec.profiles, "member", opened)
  await enter(m.page, base, spec.member, spec.pin)
  await openTab(m.page, base, result.team, "uslugi")
  await m.page.locator("[data-service]", { hasText: "Korepetycje" }).waitFor({ timeout: WAIT_MS })
  result.memberReason = await m.page.textContent("[data-testid=read-only-reason]")
  result.memberServiceForms = await count(m.page, "[data-testid=service-form], [data-testid=retire-service]")
  await shot(m.page, spec, "czlonek-uslugi")
  await tab(m.page, "porozumienie")
  result.memberAgreement = await m.page.textContent("[data-testid=agreement-status]")
  result.memberSignButtons = await count(m.page, "[data-testid=sign-agreement], [data-testid=save-agreement-text]")
  await tab(m.page, "zespol")
  result.memberMemberForms = await count(m.page, "[data-testid=member-form], [data-testid=rep-form]")
}

async function coordinatorReads(spec, base, result) {
  note("a ROPS coordinator only reads the team")
  const c = await openDevice(spec.profiles, "coordinator", opened)
  await enter(c.page, base, spec.coordinator, spec.pin)
  await openTab(c.page, base, result.team, "harmonogram")
  await c.page.locator("[data-milestone]").first().waitFor({ timeout: WAIT_MS })
  result.coordinatorReason = await c.page.textContent("[data-testid=read-only-reason]")
  result.coordinatorForms = await count(c.page, "[data-testid=milestone-form], [data-testid=milestone-status]")
  await shot(c.page, spec, "koordynator-harmonogram")
}

async function adviserEdits(spec, base, result, animator) {
  note("the ROPS adviser assigned to the team edits the services list")
  const d = await openDevice(spec.profiles, "adviser", opened)
  await enter(d.page, base, spec.adviser, spec.pin)
  await openTab(d.page, base, result.team, "uslugi")
  await d.page.locator("[data-service]", { hasText: "Korepetycje" }).locator("[data-testid=edit-service]").click()
  await d.page.locator("[data-testid=service-form][data-editing]:not([data-editing=''])").waitFor({ timeout: WAIT_MS })
  await d.page.fill("[data-testid=service-description-input]", "Korepetycje z matematyki")
  await d.page.check("[data-testid=service-remote]")
  await d.page.click("[data-testid=save-service]")
  await d.page.locator("[data-service] [data-testid=service-description]", { hasText: "Korepetycje z matematyki" }).waitFor({ timeout: WAIT_MS })
  await d.page.locator("[data-testid=service-form][data-editing='']").waitFor({ timeout: WAIT_MS })
  await syncState(d.page, "synced")
  await shot(d.page, spec, "doradca-uslugi")
  result.adviserReason = await count(d.page, "[data-testid=read-only-reason]")

  note("the animator's open page shows the adviser's change")
  await tab(animator.page, "uslugi")
  await animator.page.locator("[data-testid=service-description]", { hasText: "Korepetycje z matematyki" }).waitFor({ timeout: WAIT_MS })
}

async function scenario(spec, base) {
  const result = {}
  const animator = await animatorRunsTheTeam(spec, base, result)
  await memberReads(spec, base, result)
  await coordinatorReads(spec, base, result)
  await adviserEdits(spec, base, result, animator)
  const offline = /ERR_INTERNET_DISCONNECTED/
  result.problems = opened.flatMap(d => d.problems.filter(x => !offline.test(x)).map(x => `${d.name}: ${x}`))
  return result
}

runStory("PZK_TEAM_SPEC", opened, scenario, async d => ({
  screen: await d.page.$eval("[data-testid=screen]", s => s.innerText.slice(0, 800)).catch(e => String(e)),
}))
