// Steps of the case app's stories in the browser, in the worker's words: sign in, unlock, go to
// a screen, fill the card's parts. Every wait is a condition with a timeout; nothing sleeps.

import { join } from "node:path"

import { WAIT_MS, env, launchPersistent, note, run, until, watch } from "./browser.mjs"

/** Waits until one of the shell's views shows and returns which. */
async function shellView(page) {
  const handle = await page.waitForFunction(
    () => {
      const views = [
        ["signin", "[data-testid=login-form]"],
        ["pin-new", "[data-testid=pin-set-form]"],
        ["unlock", "[data-testid=unlock-form]"],
        ["screens", "[data-testid=screen]"],
      ]
      const shown = selector => {
        const e = document.querySelector(selector)
        return Boolean(e && !e.closest("[hidden]"))
      }
      return views.find(([, selector]) => shown(selector))?.[0] ?? null
    },
    null,
    { timeout: WAIT_MS, polling: "raf" },
  )
  return handle.jsonValue()
}

/** Opens the app and gets past sign-in and the PIN to the screens. */
export async function enter(page, base, who, pin) {
  note(`${who.login}: opens the app`)
  await page.goto(`${base}/app/`)
  for (let round = 0; round < 4; round++) {
    const view = await shellView(page)
    if (view === "screens") return
    if (view === "signin") {
      note(`${who.login}: signs in with the one-time code`)
      await page.fill("[data-testid=code]", who.code)
      await page.click("[data-testid=login]")
      await page.locator("[data-testid=login-form]").waitFor({ state: "detached", timeout: WAIT_MS })
    } else if (view === "pin-new") {
      note(`${who.login}: sets a PIN`)
      await page.fill("[data-testid=pin-new]", pin)
      await page.fill("[data-testid=pin-repeat]", pin)
      await page.click("[data-testid=pin-set]")
      await page.locator("[data-testid=pin-set-form]").waitFor({ state: "detached", timeout: WAIT_MS })
    } else if (view === "unlock") {
      note(`${who.login}: unlocks with the PIN`)
      await page.fill("[data-testid=pin]", pin)
      await page.click("[data-testid=unlock]")
      await page.locator("[data-testid=unlock-form]").waitFor({ state: "detached", timeout: WAIT_MS })
    }
  }
  throw new Error("the app did not get to the screens")
}

/** Waits until the shell's sync state is `state` (synced, offline, ...). */
export async function syncState(page, state) {
  await until(page, s => document.querySelector("[data-testid=sync-state]")?.dataset.state === s, state)
}

/** Goes to the caseload and waits for it. */
export async function caseload(page) {
  await page.click("[data-testid=nav-caseload]")
  await page.locator("[data-testid=caseload]").waitFor({ timeout: WAIT_MS })
}

/** Opens a case from the caseload by its title; returns its document id. */
export async function openCase(page, title) {
  await caseload(page)
  const link = page.locator(".case-row a", { hasText: title })
  await link.waitFor({ timeout: WAIT_MS })
  await link.click()
  await page.locator("[data-testid=case-card]").waitFor({ timeout: WAIT_MS })
  return page.getAttribute("[data-testid=case-card]", "data-document")
}

/** Creates a case; returns its document id once its card shows. */
export async function newCase(page, c) {
  await page.click("[data-testid=nav-new-case]")
  await page.fill("[data-testid=person]", c.person)
  await page.fill("[data-testid=reason]", c.reason)
  await page.click("[data-testid=create-case]")
  await page.locator("[data-testid=case-card]").waitFor({ timeout: WAIT_MS })
  return page.getAttribute("[data-testid=case-card]", "data-document")
}

/** The stage the card shows. */
export const stage = page => page.getAttribute(".stage-bar", "data-stage")

/** Moves the case to `to` with the stage bar and waits for the card to show it. */
export async function move(page, to) {
  note(`moves the case to ${to}`)
  await page.click(`[data-testid=move-${to}]`)
  await until(page, s => document.querySelector(".stage-bar")?.dataset.stage === s, to)
}

/** Why the stage bar says a move to `to` is blocked ("" when it is not). */
export async function blockedReason(page, to) {
  return page.$eval(".stage-bar", (bar, t) => bar.querySelector(`[data-blocked="${t}"]`)?.textContent ?? "", to)
}

/** Types into a bound text field of the card (appending at its end). */
export async function typeInto(page, bind, text) {
  const area = page.locator(`[data-bind="${bind}"]`)
  await area.focus()
  await page.keyboard.press("Control+End")
  await page.keyboard.type(text)
  await until(page, ([b, t]) => document.querySelector(`[data-bind="${b}"]`)?.value.includes(t), [bind, text])
}

/** The "Nowe" list's items (their keys), read after showing the screen afresh. */
export async function newsKeys(page) {
  await page.click("[data-testid=nav-caseload]")
  await page.locator("[data-testid=caseload]").waitFor({ timeout: WAIT_MS })
  await page.click("[data-testid=nav-news]")
  await page.locator("[data-testid=news-list]").waitFor({ timeout: WAIT_MS })
  return page.$$eval("[data-testid=news-list] [data-news]", items => items.map(i => i.dataset.news))
}

/** Shows "Nowe" again (each time reading the documents on the device afresh) until `check(keys)` holds; returns the keys. */
export async function untilNews(page, check) {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const keys = await newsKeys(page)
    if (check(keys)) return keys
    if (Date.now() > deadline) throw new Error(`"Nowe" never got there: ${JSON.stringify(keys)}`)
  }
}

/**
 * A browser on the profile `name` (under `profiles`, kept on disk), with its page's uncaught
 * errors collected; it is added to `opened` (closed by the caller).
 */
export async function openDevice(profiles, name, opened) {
  const context = await launchPersistent(join(profiles, name))
  const page = context.pages()[0] ?? (await context.newPage())
  const problems = []
  watch(page, problems)
  const d = { name, context, page, problems }
  opened.push(d)
  return d
}

/** The keys of the device store's chunks, each as JSON text (a key begins with its document's id); none before the store exists. */
export const chunkKeys = page =>
  page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const request = indexedDB.open("kooperacja")
        request.onerror = () => reject(request.error)
        request.onsuccess = () => {
          const db = request.result
          if (!db.objectStoreNames.contains("chunks")) {
            db.close()
            return resolve([])
          }
          const keys = db.transaction("chunks").objectStore("chunks").getAllKeys()
          keys.onsuccess = () => {
            db.close()
            resolve(keys.result.map(k => JSON.stringify(k)))
          }
          keys.onerror = () => reject(keys.error)
        }
      }),
  )

/** What a failed story reports of one open device: where it is and what the app shows. */
async function appState(d) {
  const text = (selector, read) => d.page.$eval(selector, read).catch(e => String(e))
  return {
    device: d.name,
    url: d.page.url(),
    error: await text("#error", box => (box.hidden ? "" : box.textContent)),
    refusals: await d.page.$$eval(".refusal", l => l.map(r => r.textContent)).catch(e => String(e)),
    syncState: await text("[data-testid=sync-state]", s => `${s.dataset.state}: ${s.textContent}`),
    problems: d.problems,
  }
}

/**
 * Runs a story with its spec (JSON in the environment variable `specVariable`) against `BASE_URL`,
 * over the devices it opens into `opened`; on failure reports each device's state (plus `details`
 * of it), and closes whatever is still open at the end.
 */
export async function runStory(specVariable, opened, scenario, details = async () => ({})) {
  const spec = JSON.parse(env(specVariable))
  const base = env("BASE_URL")
  const diagnose = () => Promise.all(opened.map(async d => ({ ...(await appState(d)), ...(await details(d)) })))
  try {
    await run(() => scenario(spec, base), diagnose)
  } finally {
    for (const d of opened) await d.context.close().catch(() => undefined)
  }
}
