// The case app's device protections in Chromium (persistent profile):
//   1. revoked while online: the worker has the app open and connected; the administrator
//      revokes the device; the server closes its live /sync connection with the coded reason
//      and the app wipes the store at once, with the Polish notice; the token endpoint is shut
//      meanwhile, so the wipe cannot come from a refused renewal;
//   2. the PIN attempt limit: after a new sign-in, wrong PINs are refused with the attempts
//      left; a right PIN starts the count again; the tenth wrong PIN in a row wipes the store.
//
// tests/tests/case_app_revocation.rs runs this (see browser.mjs for the shared inputs). Its own
// input, REVOKE_SPEC, is JSON: {profile, pin, first: {login, code}, second: {login, code}}.

import { ask, env, launchPersistent, note, run, shot, until, WAIT_MS, watch } from "./browser.mjs"
import { enter, syncState } from "./case-app-steps.mjs"

const spec = JSON.parse(env("REVOKE_SPEC"))
const base = env("BASE_URL")
const problems = []
let current = null

const visible = (page, selector) => page.locator(selector).waitFor({ state: "visible", timeout: WAIT_MS })

/** How many values the device's IndexedDB holds, and the app's keys left in localStorage. */
const storeLeft = page =>
  page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const request = indexedDB.open("kooperacja")
        request.onerror = () => reject(request.error)
        request.onsuccess = () => {
          const db = request.result
          const traces = Object.keys(localStorage).filter(k => k.startsWith("kooperacja.")).length
          const names = [...db.objectStoreNames]
          if (names.length === 0) {
            db.close()
            return resolve({ values: 0, traces })
          }
          const counts = names.map(
            name =>
              new Promise(done => {
                const count = db.transaction(name).objectStore(name).count()
                count.onsuccess = () => done(count.result)
              }),
          )
          Promise.all(counts).then(all => {
            db.close()
            resolve({ values: all.reduce((a, b) => a + b, 0), traces })
          })
        }
      }),
  )

async function wrongPin(page, pin, left) {
  await page.fill("[data-testid=pin]", pin)
  await page.click("[data-testid=unlock]")
  if (left > 0) {
    await until(page, n => document.getElementById("error").textContent.includes(`Pozostałe próby: ${n};`), left)
  }
}

async function scenario() {
  const result = {}
  const context = await launchPersistent(spec.profile)
  const page = context.pages()[0] ?? (await context.newPage())
  current = page
  watch(page, problems)

  note("story 1: the worker signs in; the app is connected and everything is sent")
  await enter(page, base, spec.first, spec.pin)
  await syncState(page, "synced")
  result.storeBefore = await storeLeft(page)
  // The token endpoint is unreachable from now until the wipe: the app also learns of a
  // revocation when a renewal is refused (an API call refused with 401 asks for one), so with
  // that door shut the wipe can only come from the server closing the live connection.
  let tokenRequests = 0
  await page.route("**/api/v1/token", route => {
    tokenRequests += 1
    return route.abort("connectionrefused")
  })
  const loaded = await page.evaluate(() => performance.timeOrigin)

  note("the administrator revokes the device while the app stays open and online")
  await ask({ kind: "revoke", login: spec.first.login })
  await visible(page, "[data-testid=notice-wiped-odwolane]")
  await visible(page, "[data-testid=code]")
  result.revokedNotice = await page.textContent("[data-testid=notice-wiped-odwolane]")
  await shot(page, "odwolane-logowanie")
  result.reloadedByWipe = (await page.evaluate(() => performance.timeOrigin)) !== loaded
  await page.unroute("**/api/v1/token")
  // Informative: renewals the app tried while the endpoint was shut (none reached the server).
  result.tokenRequestsWhileShut = tokenRequests
  result.storeAfterRevocation = await storeLeft(page)

  note("story 2: a new sign-in with a new code; the PIN again")
  await enter(page, base, spec.second, spec.pin)
  await syncState(page, "synced")
  await page.reload()
  await visible(page, "[data-testid=pin]")
  note("two wrong PINs, then the right one: the count starts again")
  await wrongPin(page, "000000", 9)
  await wrongPin(page, "111111", 8)
  result.leftAfterTwo = await page.textContent("#error")
  await page.fill("[data-testid=pin]", spec.pin)
  await page.click("[data-testid=unlock]")
  await syncState(page, "synced")
  await page.reload()
  await visible(page, "[data-testid=pin]")
  note("nine wrong PINs in a row: one attempt left, nothing opened")
  for (let left = 9; left >= 1; left--) await wrongPin(page, `9${String(left).padStart(5, "0")}`, left)
  result.leftAfterNine = await page.textContent("#error")
  await shot(page, "pin-proby")
  result.storeAfterNine = await storeLeft(page)
  note("the tenth wrong PIN wipes the device")
  await wrongPin(page, "123123", 0)
  await visible(page, "[data-testid=notice-wiped-pin]")
  await visible(page, "[data-testid=code]")
  result.pinNotice = await page.textContent("[data-testid=notice-wiped-pin]")
  result.storeAfterLimit = await storeLeft(page)

  await context.close()
  result.problems = problems
  return result
}

await run(scenario, async () => ({
  url: current?.url(),
  error: await current?.$eval("#error", box => (box.hidden ? "" : box.textContent)).catch(e => String(e)),
  notice: await current?.$eval("#notice", box => box.textContent).catch(e => String(e)),
  problems,
}))
