// The case app's shell in Chromium with PERSISTENT profiles (closing and launching the browser
// again on the same folder is a real restart): a worker signs in with a one-time code and
// chooses a PIN; the browser is asked to keep the data; the store holds no plaintext; the app
// is installable and opens with the network off after its first load; a wrong PIN is refused;
// an edit made offline (on the PZK meeting page, which keeps its documents in the same
// encrypted store) survives closing the browser; the idle lock and the lock button; a revoked
// device is wiped at its next contact; sign-out wipes. The meeting page opens offline too.
//
// tests/tests/case_app_shell.rs runs this (see browser.mjs for the shared inputs, the
// requests to the test and the result line). Its own input, APP_SPEC, is JSON:
//   {worker: {login, code}, other: {login, code}, pin, document, meeting,
//    secrets: [texts of the document that must never be found in the store's raw bytes],
//    offlineText}

import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

import { ask, env, launchPersistent, note, run, until, WAIT_MS, watch } from "./browser.mjs"

const spec = JSON.parse(env("APP_SPEC"))
const base = env("BASE_URL")
const problems = []
let current = null

/** Launches the browser on `profile` and opens `path` (with the network off when `offline`). */
async function open(profile, path, { offline = false } = {}) {
  const context = await launchPersistent(profile)
  if (offline) await context.setOffline(true)
  const page = context.pages()[0] ?? (await context.newPage())
  watch(page, problems)
  page.on("dialog", dialog => void dialog.accept())
  await page.goto(`${base}${path}`)
  current = page
  return { context, page }
}

const visible = (page, selector) => page.locator(selector).waitFor({ state: "visible", timeout: WAIT_MS })

async function signIn(page, who) {
  await visible(page, "#code")
  await page.fill("#code", who.code)
  await page.click("[data-testid=login]")
  await visible(page, "#pin-new")
  await page.fill("#pin-new", spec.pin)
  await page.fill("#pin-repeat", spec.pin)
  await page.click("[data-testid=pin-set]")
}

async function unlock(page, pin) {
  await visible(page, "#pin")
  await page.fill("#pin", pin)
  await page.click("[data-testid=unlock]")
}

const screensShown = page => until(page, () => !document.getElementById("screens").hidden)
const syncState = (page, state) => until(page, s => document.getElementById("sync-state")?.dataset.state === s, state)

/** Every raw value of the device's IndexedDB, as text (UTF-8 and Latin-1 readings of bytes). */
function rawStore(page) {
  return page.evaluate(async wait => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open("kooperacja")
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error)
      request.onblocked = () => reject(new Error("opening the store is blocked"))
      setTimeout(() => reject(new Error("the store did not open")), wait)
    })
    const read = name =>
      new Promise(resolve => {
        if (!db.objectStoreNames.contains(name)) return resolve([])
        const request = db.transaction(name).objectStore(name).getAll()
        request.onsuccess = () => resolve(request.result)
      })
    const texts = []
    const walk = value => {
      if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
        const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer)
        let latin1 = ""
        for (const byte of bytes) latin1 += String.fromCharCode(byte)
        texts.push(new TextDecoder().decode(bytes), latin1)
      } else if (value && typeof value === "object") {
        Object.values(value).forEach(walk)
      } else {
        texts.push(String(value))
      }
    }
    const meta = await read("meta")
    const chunks = await read("chunks")
    ;[...meta, ...chunks].forEach(walk)
    const keys = await new Promise(resolve => {
      if (!db.objectStoreNames.contains("meta")) return resolve([])
      const request = db.transaction("meta").objectStore("meta").getAllKeys()
      request.onsuccess = () => resolve(request.result)
    })
    db.close()
    return { meta: meta.length, chunks: chunks.length, metaKeys: keys, texts }
  }, WAIT_MS)
}

/** The keys of the store's chunks (they name content hashes: any write changes them). */
const chunkKeys = page =>
  page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const request = indexedDB.open("kooperacja")
        request.onerror = () => reject(request.error)
        request.onsuccess = () => {
          const db = request.result
          if (!db.objectStoreNames.contains("chunks")) return resolve("[]")
          const keys = db.transaction("chunks").objectStore("chunks").getAllKeys()
          keys.onsuccess = () => {
            db.close()
            resolve(JSON.stringify(keys.result))
          }
          keys.onerror = () => reject(keys.error)
        }
      }),
  )

/** Waits until the store's chunks differ from `before` (and are not none): the repo wrote. */
async function storeChanged(page, before) {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const keys = await chunkKeys(page)
    if (keys !== before && keys !== "[]") return keys
    if (Date.now() > deadline) throw new Error(`the store's chunks did not change: ${keys}`)
  }
}

/** After a wipe for `reason`: the notice the worker sees and what the store still holds. */
async function wiped(page, reason) {
  const notice = `[data-testid=notice-wiped-${reason}]`
  await visible(page, notice)
  await visible(page, "#code")
  const store = await rawStore(page)
  // What the app keeps beside the vault in localStorage (document ids, confirmed heads).
  const traces = await page.evaluate(() => Object.keys(localStorage).filter(k => k.startsWith("kooperacja.")).length)
  return { notice: await page.textContent(notice), meta: store.meta, chunks: store.chunks, traces }
}

/** The shell cache of the service worker: how many files it holds and whether it controls the page. */
const shell = page =>
  page.evaluate(async () => {
    await navigator.serviceWorker.ready // (the caller waited for a controller first)
    const names = (await caches.keys()).filter(n => n.startsWith("kooperacja-shell-"))
    const files = names.length ? (await (await caches.open(names[0])).keys()).length : 0
    return { caches: names.length, files, controlled: Boolean(navigator.serviceWorker.controller) }
  })

async function scenario() {
  const result = {}
  const profile = mkdtempSync(join(tmpdir(), "kooperacja-app-"))
  const profile2 = mkdtempSync(join(tmpdir(), "kooperacja-app-"))
  try {
    note("first load: the worker signs in with the code and chooses a PIN")
    let { context, page } = await open(profile, "/app/")
    await signIn(page, spec.worker)
    await screensShown(page)
    result.persisted = await page.evaluate(() => navigator.storage.persisted())
    result.persistenceNotice = await page
      .locator("[data-testid=notice-persistence]")
      .isVisible()
      .catch(() => false)
    result.who = await page.textContent("#who")

    note("the documents the worker may hold arrive in the store, and everything is sent")
    await storeChanged(page, "[]")
    await syncState(page, "synced")
    result.syncedText = await page.textContent("#sync-state")

    note("the store holds no plaintext")
    const raw = await rawStore(page)
    result.rawValues = { meta: raw.meta, chunks: raw.chunks, metaKeys: raw.metaKeys }
    result.plaintextFound = spec.secrets.filter(secret => raw.texts.some(text => text.includes(secret)))

    note("the service worker keeps the shell; the app is installable")
    await until(page, () => Boolean(navigator.serviceWorker?.controller))
    result.shell = await shell(page)
    const cdp = await context.newCDPSession(page)
    result.installabilityErrors = (await cdp.send("Page.getInstallabilityErrors")).installabilityErrors
    result.manifest = await page.evaluate(async () => (await fetch("/app/manifest.webmanifest")).json())

    note("the lock button locks; the PIN opens again")
    await page.click("[data-testid=lock]")
    await unlock(page, spec.pin)
    await screensShown(page)

    note("on the meeting page (same store), an edit made offline")
    await page.goto(`${base}/meeting/${spec.document}/${spec.meeting}`)
    await unlock(page, spec.pin)
    await until(page, () => !document.getElementById("meeting-view").hidden)
    note("the meeting page's service worker takes it over (so it opens offline later)")
    await until(page, () => Boolean(navigator.serviceWorker?.controller))
    await context.setOffline(true)
    await until(page, () => document.getElementById("connection").dataset.state === "offline")
    await page.focus("#minutes")
    await page.keyboard.press("Control+End")
    const before = await chunkKeys(page)
    await page.keyboard.type(spec.offlineText)
    await storeChanged(page, before)
    await until(page, () => document.documentElement.dataset.savedOnDevice === "true")
    await context.close()

    note("the browser again, with no network: the app opens from the service worker")
    ;({ context, page } = await open(profile, "/app/", { offline: true }))
    result.offlineFetchFails = await page.evaluate(() =>
      fetch("/healthz").then(
        () => false,
        () => true,
      ),
    )
    note("a wrong PIN is refused and nothing opens")
    await unlock(page, "000000")
    await until(page, () => document.getElementById("error").textContent.includes("Nieprawidłowy PIN"))
    result.wrongPinScreensHidden = await page.evaluate(() => document.getElementById("screens").hidden)
    note("the right PIN opens the app offline")
    await unlock(page, spec.pin)
    await screensShown(page)
    await syncState(page, "offline")
    result.offlineText = await page.textContent("#sync-state")

    note("the meeting page opens offline too, with the edit made offline")
    await page.goto(`${base}/meeting/${spec.document}/${spec.meeting}`)
    await unlock(page, spec.pin)
    await until(page, text => document.getElementById("minutes")?.value.includes(text), spec.offlineText)
    result.meetingOpensOffline = await page.evaluate(() => document.getElementById("connection").dataset.state)
    await page.goto(`${base}/app/`)
    await unlock(page, spec.pin)
    await screensShown(page)

    note("the idle lock")
    await page.evaluate(() => localStorage.setItem("kooperacja.idleLockSeconds", "1"))
    await page.reload()
    await unlock(page, spec.pin)
    await screensShown(page)
    await visible(page, "#pin")
    result.idleLocked = true
    await page.evaluate(() => localStorage.removeItem("kooperacja.idleLockSeconds"))

    note("back online: the meeting page finds the offline edit on the device and sends it")
    await context.setOffline(false)
    await page.goto(`${base}/meeting/${spec.document}/${spec.meeting}`)
    await unlock(page, spec.pin)
    await until(page, text => document.getElementById("minutes").value.includes(text), spec.offlineText)
    await until(page, () => document.getElementById("connection").dataset.state === "online")
    const sent = await ask({ kind: "server-has", text: spec.offlineText })
    result.serverHasOfflineEdit = sent.ok
    await context.close()

    note("the device is revoked; at its next contact the store is wiped")
    await ask({ kind: "revoke", login: spec.worker.login })
    ;({ context, page } = await open(profile, "/app/"))
    await unlock(page, spec.pin)
    ;({ notice: result.revokedNotice, ...result.afterRevocation } = await wiped(page, "odwolane"))
    await context.close()

    note("another worker signs in on another browser and signs out: the store is wiped")
    ;({ context, page } = await open(profile2, "/app/"))
    await signIn(page, spec.other)
    await screensShown(page)
    await storeChanged(page, "[]")
    await page.click("[data-testid=logout]")
    ;({ notice: result.signedOutNotice, ...result.afterSignOut } = await wiped(page, "wylogowano"))
    await context.close()

    result.problems = problems
    return result
  } finally {
    rmSync(profile, { recursive: true, force: true })
    rmSync(profile2, { recursive: true, force: true })
  }
}

await run(scenario, async () => ({
  url: current?.url(),
  error: await current?.$eval("#error", box => (box.hidden ? "" : box.textContent)).catch(e => String(e)),
  notice: await current?.$eval("#notice", box => box.textContent).catch(e => String(e)),
  minutes: await current?.$eval("#minutes", t => t.value).catch(e => String(e)),
  problems,
}))
