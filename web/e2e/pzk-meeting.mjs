// A PZK meeting run from the case app, in headless Chromium: the team's animator schedules a
// meeting (a plain http:// link is refused first, in Polish), the school's and the police's
// representatives (two more browsers, of other institutions) find it in "Nowe", open it, see
// each other connected, mark how they take part and type the minutes together with the animator,
// each seeing the others' words; they are shown why they may not approve; the animator records a
// decision and approves the minutes; the members see the meeting frozen and "minutes approved" in
// "Nowe"; the print view holds the attendance list by institution with a signature column and the
// minutes, and the print stylesheet leaves only that sheet on paper.
// tests/tests/pzk_meeting_app.rs sets up the server and checks the document in Rust.
// Prints one JSON line.
//
// Inputs, in the environment: BASE_URL, SERVER_CERT, CHROMIUM (see e2e/browser.mjs) and
//   MEETING_SPEC  JSON: {profiles, pin, screens, pzk, animator: {code, login}, school: {code, login},
//                 police: {code, login}, date, link, agenda: [..], minutes: {animator, school, police},
//                 decision}

import { join } from "node:path"

import { WAIT_MS, note, until } from "./browser.mjs"
import { enter, openDevice, runStory, syncState, typeInto, untilNews } from "./case-app-steps.mjs"

const opened = []
const shot = (page, spec, name) => page.screenshot({ path: join(spec.screens, `pzk-meeting-${name}.png`), fullPage: true })

/** Waits until the meeting page of `page` shows `logins` among those connected. */
const untilPresent = (page, logins) =>
  until(page, ls => ls.every(l => document.querySelector(`[data-testid=presence] [data-login="${l}"]`)), logins)

/** Waits until the minutes on `page` hold every one of `texts`. */
const untilMinutes = (page, texts) =>
  until(page, ts => ts.every(t => document.querySelector("[data-bind=minutes]")?.value.includes(t)), texts)

/** Picks how `person` takes part, on `page`, and waits for the row to show it. */
async function mark(page, person, how) {
  await page.selectOption(`[data-testid=attendance] select[data-person="${person}"]`, how)
  await until(page, ([p, h]) => document.querySelector(`[data-testid=attendance] tr[data-person="${p}"]`)?.dataset.attendance === h, [person, how])
}

async function scenario(spec, base) {
  const result = {}
  const meetingUrl = id => `${base}/app/#/pzk/${spec.pzk}/spotkania/${id}`

  note("the animator opens the team from Zespoły PZK and schedules a meeting")
  const a = await openDevice(spec.profiles, "animator", opened)
  await enter(a.page, base, spec.animator, spec.pin)
  await a.page.click("[data-testid=nav-pzk]")
  await a.page.locator(`[data-team="${spec.pzk}"] [data-testid=team-link]`).click()
  await a.page.locator("[data-testid=pzk-tab][data-tab=spotkania]").waitFor({ timeout: WAIT_MS })
  result.teamTabs = await a.page.$$eval("[data-pzk-tab]", tabs => tabs.map(t => t.textContent))
  await a.page.click("[data-testid=schedule-meeting]")
  await a.page.fill("[data-testid=meeting-date]", spec.date)
  await a.page.selectOption("[data-testid=meeting-mode]", "mixed")
  await a.page.fill("[data-testid=meeting-agenda]", spec.agenda.join("\n"))
  await a.page.fill("[data-testid=meeting-link-input]", spec.link.replace("https://", "http://"))
  await a.page.click("[data-testid=schedule-save]")
  await a.page.locator("[data-testid=schedule-form] [data-testid=refusal]").waitFor({ timeout: WAIT_MS })
  result.linkRefusal = await a.page.textContent("[data-testid=schedule-form] [data-testid=refusal]")
  result.invitable = await a.page.$$eval("[data-invite]", boxes => boxes.map(b => b.value))
  await a.page.fill("[data-testid=meeting-link-input]", spec.link)
  await a.page.click("[data-testid=schedule-save]")
  await a.page.locator("[data-testid=meeting]").waitFor({ timeout: WAIT_MS })
  const id = await a.page.getAttribute("[data-testid=meeting]", "data-meeting")
  result.meeting = id
  result.when = await a.page.textContent("[data-testid=meeting-when]")
  result.agenda = await a.page.$$eval("[data-testid=meeting-agenda-list] li", items => items.map(i => i.textContent))
  await syncState(a.page, "synced")
  await shot(a.page, spec, "scheduled")

  note("the school's representative finds it in Nowe and opens it from there")
  const s = await openDevice(spec.profiles, "school", opened)
  await enter(s.page, base, spec.school, spec.pin)
  result.schoolNewsBefore = await untilNews(s.page, keys => keys.includes(`meeting:${spec.pzk}:${id}`))
  await shot(s.page, spec, "nowe-scheduled")
  await s.page.locator(`[data-news="meeting:${spec.pzk}:${id}"] [data-testid=news-link]`).click()
  await s.page.locator(`[data-testid=meeting][data-meeting="${id}"]`).waitFor({ timeout: WAIT_MS })

  note("the police's representative opens it from the team's meetings list")
  const p = await openDevice(spec.profiles, "police", opened)
  await enter(p.page, base, spec.police, spec.pin)
  await p.page.click("[data-testid=nav-pzk]")
  await p.page.locator(`[data-team="${spec.pzk}"] [data-testid=team-link]`).click()
  await p.page.locator(`[data-meeting="${id}"] [data-testid=meeting-link]`).click()
  await p.page.locator(`[data-testid=meeting][data-meeting="${id}"]`).waitFor({ timeout: WAIT_MS })
  result.policeMaySchedule = (await p.page.locator("[data-testid=schedule-meeting]").count()) > 0

  note("all three see each other connected")
  const all = [spec.animator.login, spec.school.login, spec.police.login]
  for (const d of [a, s, p]) await untilPresent(d.page, all)
  result.presence = await s.page.$$eval("[data-testid=presence] [data-login]", items => items.map(i => i.dataset.login))

  note("each member marks how they take part; the animator marks himself")
  result.schoolMayMarkPolice = !(await s.page.isDisabled(`[data-testid=attendance] select[data-person="${spec.police.login}"]`))
  result.unmarked = await s.page.$eval(`[data-testid=attendance] select[data-person="${spec.school.login}"]`, x => [x.value, x.selectedOptions[0]?.textContent ?? null])
  await mark(s.page, spec.school.login, "video")
  await mark(p.page, spec.police.login, "phone")
  await mark(a.page, spec.animator.login, "in_person")
  for (const d of [a, s, p]) {
    await until(d.page, () => document.querySelectorAll("[data-testid=attendance] tr[data-attendance]:not([data-attendance=''])").length >= 3)
  }

  note("the three type the minutes in turn, each going on from the others' words as they arrive")
  const typed = []
  for (const [d, words] of [[a, spec.minutes.animator], [s, spec.minutes.school], [p, spec.minutes.police]]) {
    // Each goes on once the words before have reached them (typing at the end of a text still
    // arriving interleaves the two, as it should).
    await untilMinutes(d.page, typed)
    await typeInto(d.page, "minutes", words)
    typed.push(words)
  }
  for (const d of [a, s, p]) await untilMinutes(d.page, typed)
  await shot(s.page, spec, "running")

  note("a member is shown why he may not approve; the animator records a decision and approves")
  result.schoolApproveDisabled = await s.page.isDisabled("[data-testid=approve-minutes]")
  result.schoolApproveWhy = await s.page.textContent("[data-testid=approve-why]")
  await a.page.fill("[data-testid=decision-text]", spec.decision)
  await a.page.click("[data-testid=decision-save]")
  await a.page.locator("[data-testid=decisions] li", { hasText: spec.decision }).waitFor({ timeout: WAIT_MS })
  await a.page.click("[data-testid=approve-minutes]")
  await a.page.click("[data-testid=approve-confirm]")
  await a.page.locator("[data-testid=approved]").waitFor({ timeout: WAIT_MS })
  await syncState(a.page, "synced")

  note("the members see the meeting frozen")
  for (const d of [s, p]) {
    await d.page.locator(`[data-testid=meeting][data-frozen]`).waitFor({ timeout: WAIT_MS })
    await d.page.locator("[data-testid=approved]").waitFor({ timeout: WAIT_MS })
  }
  const frozen = page =>
    page.evaluate(() => ({
      minutesReadOnly: document.querySelector("[data-bind=minutes]")?.readOnly ?? null,
      selectsEnabled: [...document.querySelectorAll("[data-testid=attendance] select")].filter(x => !x.disabled).length,
      decisionForm: document.querySelector("[data-testid=decision-text]") !== null,
      approved: document.querySelector("[data-testid=approved]")?.textContent ?? "",
      decisions: [...document.querySelectorAll("[data-testid=decisions] li")].map(li => li.firstChild?.textContent ?? ""),
    }))
  result.schoolFrozen = await frozen(s.page)
  result.policeFrozen = await frozen(p.page)
  await shot(p.page, spec, "frozen")

  note("Nowe of the police's representative shows the meeting and its approved minutes")
  result.policeNews = await untilNews(p.page, keys => keys.includes(`minutes:${spec.pzk}:${id}`))
  result.policeNewsText = await p.page.$$eval("[data-testid=news-list] [data-news]", items =>
    items.map(i => ({ key: i.dataset.news, kind: i.dataset.kind, text: i.innerText })),
  )
  await shot(p.page, spec, "nowe-approved")
  note("he opens the approved minutes from Nowe: the meeting page, frozen, and nothing new left of it")
  await p.page.locator(`[data-news="minutes:${spec.pzk}:${id}"] [data-testid=news-link]`).click()
  await p.page.locator(`[data-testid=meeting][data-meeting="${id}"][data-frozen]`).waitFor({ timeout: WAIT_MS })
  result.policeNewsAfter = await untilNews(p.page, keys => !keys.some(k => k.endsWith(`:${id}`)))

  note("the animator opens the print view: attendance list and minutes")
  await a.page.click("[data-testid=print-link]")
  await a.page.locator("[data-testid=print-sheet]").waitFor({ timeout: WAIT_MS })
  result.print = await a.page.evaluate(() => {
    const text = sel => document.querySelector(sel)?.textContent ?? null
    return {
      team: text("[data-testid=print-team]"),
      date: text("[data-testid=print-date]"),
      mode: text("[data-testid=print-mode]"),
      agenda: [...document.querySelectorAll("[data-testid=print-agenda] li")].map(li => li.textContent),
      columns: [...document.querySelectorAll("[data-testid=print-attendance-table] thead th")].map(th => th.textContent),
      rows: [...document.querySelectorAll("[data-testid=print-attendance-table] tbody tr")].map(tr => ({
        person: tr.dataset.person,
        institution: tr.dataset.institution,
        cells: [...tr.cells].map(c => c.textContent),
        signature: tr.querySelector("td.signature") !== null,
      })),
      minutes: text("[data-testid=print-minutes]"),
      decisions: text("[data-testid=print-decisions]"),
      approval: text("[data-testid=print-approval]"),
    }
  })
  await shot(a.page, spec, "print-screen")
  await a.page.emulateMedia({ media: "print" })
  result.printMedia = await a.page.evaluate(() => {
    const shown = sel => {
      const e = document.querySelector(sel)
      return e ? getComputedStyle(e).display !== "none" && e.getClientRects().length > 0 : null
    }
    return {
      matches: matchMedia("print").matches,
      header: shown("header.bar"),
      nav: shown(".case-nav"),
      tabs: shown(".pzk-tabs"),
      printButton: shown("[data-testid=print]"),
      sheet: shown("[data-testid=print-sheet]"),
      table: shown("[data-testid=print-attendance-table]"),
      cellBorder: getComputedStyle(document.querySelector(".print-attendance td")).borderTopStyle,
    }
  })
  await shot(a.page, spec, "print")
  await a.page.pdf({ path: join(spec.screens, "pzk-meeting-minutes.pdf"), format: "A4" })
  await a.page.emulateMedia({ media: "screen" })

  const offline = /ERR_INTERNET_DISCONNECTED/
  result.problems = opened.flatMap(d => d.problems.filter(x => !offline.test(x)).map(x => `${d.name}: ${x}`))
  result.meetingUrl = meetingUrl(id)
  return result
}

runStory("MEETING_SPEC", opened, scenario, async d => ({
  screen: await d.page.$eval("[data-testid=screen]", s => s.innerText.slice(0, 800)).catch(e => String(e)),
  minutes: await d.page.$eval("[data-bind=minutes]", m => m.value).catch(e => String(e)),
}))
