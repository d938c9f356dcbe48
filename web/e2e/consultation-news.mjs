// A consultation asked through the PZK and "Co nowego", in headless Chromium: the GOPS worker
// asks the school about a case that is not shared with it; the school's pedagogue sees it in
// "Nowe" (a count on the tab) on her first browser, and on her second; she opens it on the
// first and answers there, and the item is gone from "Nowe" on the second too; the worker sees
// the answer in the case card; the pedagogue's browser is refused the case and holds no chunk
// of it. tests/tests/partners_consultation.rs sets up the server and checks the rest in Rust.
// Prints one JSON line.
//
// Inputs, in the environment: BASE_URL, SERVER_CERT, CHROMIUM (see e2e/browser.mjs) and
//   CONSULTATION_SPEC  JSON: {profiles, pin, screens, case, worker: {code, login},
//                      pedagogue: {code, login}, pedagogueSecond: {code, login}, question, answer}

import { join } from "node:path"

import { WAIT_MS, note, until } from "./browser.mjs"
import { chunkKeys, enter, newsKeys, openDevice, runStory, syncState, untilNews } from "./case-app-steps.mjs"

const opened = []
const shot = (page, spec, name) => page.screenshot({ path: join(spec.screens, `consultation-${name}.png`), fullPage: true })

async function scenario(spec, base) {
  const result = {}
  note("the GOPS worker opens the case and asks the school through the PZK")
  const w = await openDevice(spec.profiles, "worker", opened)
  await enter(w.page, base, spec.worker, spec.pin)
  await w.page.goto(`${base}/app/#/sprawa/${spec.case}`)
  await w.page.locator("[data-testid=case-card]").waitFor({ timeout: WAIT_MS })
  const to = await w.page.$$eval("[data-testid=ask-to] option", os => os.map(o => [o.value, o.textContent]))
  result.askable = to.map(([, label]) => label)
  const school = to.find(([value]) => value.endsWith("|szkola"))
  if (!school) throw new Error(`the school is not offered: ${JSON.stringify(to)}`)
  await w.page.selectOption("[data-testid=ask-to]", school[0])
  await w.page.fill("[data-testid=question]", spec.question)
  await w.page.click("[data-testid=ask]")
  const asked = w.page.locator("article.consultation", { hasText: spec.question })
  await asked.waitFor({ timeout: WAIT_MS })
  result.consultation = await asked.getAttribute("data-consultation")
  result.askedOf = await asked.locator("[data-testid=asked-of]").textContent()
  await syncState(w.page, "synced")
  await shot(w.page, spec, "asked")

  note("the pedagogue's second browser shows it in Nowe")
  const second = await openDevice(spec.profiles, "pedagogue-second", opened)
  await enter(second.page, base, spec.pedagogueSecond, spec.pin)
  const key = k => k.startsWith("consultation:") && k.endsWith(`:${result.consultation}`)
  result.secondBefore = await untilNews(second.page, keys => keys.some(key))

  note("her first browser: the count on the tab, then the item; she opens it and answers")
  const p = await openDevice(spec.profiles, "pedagogue", opened)
  await enter(p.page, base, spec.pedagogue, spec.pin)
  result.tabs = await p.page.$$eval(".case-nav [data-nav]", links => links.map(a => a.dataset.nav))
  await untilNews(p.page, keys => keys.some(key))
  // The tab's count is recounted whenever a screen is shown or a document on the device changes.
  await until(p.page, () => Number(document.querySelector("[data-testid=news-count]")?.dataset.count ?? 0) > 0)
  result.badge = Number(await p.page.getAttribute("[data-testid=news-count]", "data-count"))
  await shot(p.page, spec, "nowe")
  await p.page.locator(`[data-testid=news-list] [data-kind=consultation] [data-testid=news-link]`).first().click()
  await p.page.locator("[data-testid=news-consultation]").waitFor({ timeout: WAIT_MS })
  result.question = await p.page.textContent("[data-testid=news-question]")
  await p.page.fill("[data-testid=news-consultation] [data-testid=answer-text]", spec.answer)
  await p.page.click("[data-testid=news-consultation] [data-testid=answer]")
  await p.page.locator("[data-testid=news-consultation] [data-answer]").waitFor({ timeout: WAIT_MS })
  await syncState(p.page, "synced")
  await shot(p.page, spec, "answered")
  result.firstAfter = await newsKeys(p.page)

  note("opened on the first browser, the item is gone from Nowe on the second")
  result.secondAfter = await untilNews(second.page, keys => !keys.some(key))

  note("the worker sees the answer in the case")
  await w.page.locator(`article.consultation[data-consultation="${result.consultation}"] [data-answer]`).waitFor({ timeout: WAIT_MS })
  result.workerSees = await w.page.textContent(`article.consultation[data-consultation="${result.consultation}"] .answers`)
  await shot(w.page, spec, "answer-in-case")

  note("the pedagogue is refused the case, and her browsers hold no chunk of it")
  await p.page.goto(`${base}/app/#/sprawa/${spec.case}`)
  await p.page.locator("[data-testid=screen-error]").waitFor({ timeout: WAIT_MS })
  result.pedagogueCaseError = await p.page.textContent("[data-testid=screen-error]")
  result.caseChunks = [...(await chunkKeys(p.page)), ...(await chunkKeys(second.page))].filter(k => k.includes(spec.case)).length

  const offline = /ERR_INTERNET_DISCONNECTED/
  result.problems = opened.flatMap(d => d.problems.filter(x => !offline.test(x)).map(x => `${d.name}: ${x}`))
  return result
}

runStory("CONSULTATION_SPEC", opened, scenario, async d => ({
  screen: await d.page.$eval("[data-testid=screen]", s => s.innerText.slice(0, 600)).catch(e => String(e)),
}))
