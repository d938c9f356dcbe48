// A retention notice in the case app's "Co nowego", in Chromium: Anna signs in; her case,
// closed long ago and to be erased in a month, is among her news with its day; she opens it
// (the case's card) and it is news no more.
//
// tests/tests/retention.rs runs this (see browser.mjs for the shared inputs). Its own input,
// RETENTION_SPEC, is JSON: {profile, pin, worker: {login, code}, case}.

import { env, launchPersistent, note, run, until, WAIT_MS, watch } from "./browser.mjs"
import { enter } from "./case-app-steps.mjs"

const spec = JSON.parse(env("RETENTION_SPEC"))
const base = env("BASE_URL")
const problems = []
const pages = []

/** The retention items of "Nowe", once its list is drawn. */
async function retentionItems(page) {
  await page.click("[data-testid=nav-news]")
  await until(page, () => document.querySelector("[data-testid=news-list] li") !== null)
  return page.$$eval("[data-testid=news-list] [data-kind=retention]", items =>
    items.map(i => ({ key: i.dataset.news, text: i.textContent })),
  )
}

async function scenario() {
  const result = {}
  const browser = await launchPersistent(spec.profile)
  const page = browser.pages()[0] ?? (await browser.newPage())
  pages.push(page)
  watch(page, problems)
  await enter(page, base, spec.worker, spec.pin)

  note("Anna opens Nowe: the notice is there")
  await page.click("[data-testid=nav-news]")
  const item = page.locator("[data-testid=news-list] [data-kind=retention]")
  await item.first().waitFor({ timeout: WAIT_MS })
  result.items = await retentionItems(page)

  note("she opens it: the case's card, and the notice is seen")
  await item.first().locator("[data-testid=news-link]").click()
  await until(page, id => location.hash.includes(id), spec.case)
  result.hash = await page.evaluate(() => location.hash)
  result.after = await retentionItems(page)
  await browser.close()
  result.problems = problems
  return result
}

run(scenario, async () => Promise.all(pages.map(p => p.content().then(html => html.slice(0, 4000)))))
