// The case app's benchmarks in headless Chromium (tests/examples/case-app-bench runs this and
// prints the figures; docs/benchmarks.md quotes them). NOT a test: it measures, it asserts
// only that what it measures happened. Prints one JSON line.
//
// Inputs, in the environment: BASE_URL, SERVER_CERT, CHROMIUM (see e2e/browser.mjs) and
//   BENCH_SPEC  JSON: {profile: the browser's profile folder, pin, worker: {code, login},
//               documents: the ids of every case on the server, opens: cold opens to time,
//               keys: keystrokes to time, noteCase: the case whose note is long, noteBind}
//
// What it measures:
//   1. first sync: from the sign-in (the one-time code sent) and from the PIN set (the session
//      starts) to every case stored in the device's IndexedDB;
//   2. cold opens offline: the browser closed and launched again on its profile with no
//      network, the PIN entered; the caseload's own figure (`data-listed-in-ms`: its screen's
//      start to the list drawn) and the time from the unlock tap to every case listed;
//   3. typing into the long note: per keystroke, the input event's handlers (document capture
//      to window bubble) and the key event to the end of the next frame (requestAnimationFrame,
//      then a message: after that frame's rendering), offline at the end and in the middle of
//      the text, then online at the end.

import { writeFileSync } from "node:fs"

import { env, launchPersistent, note, run, until, WAIT_MS } from "./browser.mjs"
import { syncState } from "./case-app-steps.mjs"

let context = null

/** Resolves with performance.now() once the device's store holds a chunk of every document. */
function storedAll(ids) {
  return new Promise((resolve, reject) => {
    const want = new Set(ids)
    const deadline = performance.now() + 600_000
    const poll = () => {
      const open = indexedDB.open("kooperacja")
      open.onerror = () => reject(open.error)
      open.onsuccess = () => {
        const db = open.result
        if (!db.objectStoreNames.contains("chunks")) {
          db.close()
          return setTimeout(poll, 50)
        }
        const keys = db.transaction("chunks", "readonly").objectStore("chunks").getAllKeys()
        keys.onsuccess = () => {
          db.close()
          const held = new Set(keys.result.map(k => k[0]))
          const missing = [...want].filter(id => !held.has(id)).length
          if (missing === 0) return resolve(performance.now())
          if (performance.now() > deadline) return reject(new Error(`${missing} documents never stored`))
          setTimeout(poll, 50)
        }
      }
    }
    poll()
  })
}

async function firstSync(base, spec) {
  note("first sign-in, sync of every case")
  context = await launchPersistent(spec.profile)
  const page = context.pages()[0] ?? (await context.newPage())
  await page.goto(`${base}/app/`)
  await page.locator("[data-testid=code]").waitFor({ timeout: WAIT_MS })
  await page.fill("[data-testid=code]", spec.worker.code)
  const signIn = await page.evaluate(() => performance.now())
  await page.click("[data-testid=login]")
  await page.locator("[data-testid=pin-new]").waitFor({ timeout: WAIT_MS })
  await page.fill("[data-testid=pin-new]", spec.pin)
  await page.fill("[data-testid=pin-repeat]", spec.pin)
  const pinSet = await page.evaluate(() => performance.now())
  await page.click("[data-testid=pin-set]")
  const stored = await page.evaluate(storedAll, spec.documents)
  note("every case stored; waiting for everything sent and saved")
  await syncState(page, "synced")
  await until(page, () => document.documentElement.dataset.savedOnDevice === "true")
  return { fromSignInMs: Math.round(stored - signIn), fromPinSetMs: Math.round(stored - pinSet), cases: spec.documents.length }
}

/** Closes the browser and opens it again offline on the same profile, PIN entered; the list's times. */
async function coldOpen(base, spec) {
  await context.close()
  context = await launchPersistent(spec.profile)
  await context.setOffline(true)
  const page = context.pages()[0] ?? (await context.newPage())
  await page.goto(`${base}/app/`)
  await page.locator("[data-testid=unlock-form] [data-testid=pin]").waitFor({ timeout: WAIT_MS })
  const shell = await page.evaluate(() => performance.now())
  await page.fill("[data-testid=pin]", spec.pin)
  await page.evaluate(() =>
    document.querySelector("[data-testid=unlock]").addEventListener("click", () => (window.__unlockAt = performance.now()), {
      capture: true,
    }),
  )
  // BENCH_PROFILE=file: a CPU profile of this open (DevTools' .cpuprofile), for finding what is slow.
  const profiler = process.env.BENCH_PROFILE ? await context.newCDPSession(page) : null
  if (profiler) {
    await profiler.send("Profiler.enable")
    await profiler.send("Profiler.setSamplingInterval", { interval: 200 })
    await profiler.send("Profiler.start")
  }
  await page.click("[data-testid=unlock]")
  const listed = await page.waitForFunction(
    n => {
      const screen = document.querySelector("[data-testid=screen]")
      const rows = document.querySelectorAll(".case-row").length
      return rows >= n && screen?.dataset.listedInMs ? [performance.now(), Number(screen.dataset.listedInMs), rows, "fromIndex" in screen.dataset] : null
    },
    spec.documents.length,
    { timeout: WAIT_MS, polling: "raf" },
  )
  const [at, screenMs, rows, fromIndex] = await listed.jsonValue()
  // The documents read after the list showed from the index (the list redrawn from them).
  const read = await page.waitForFunction(() => document.querySelector("[data-testid=screen]")?.dataset.readInMs, null, {
    timeout: 60_000,
    polling: "raf",
  })
  const readMs = Number(await read.jsonValue())
  if (profiler) {
    const { profile } = await profiler.send("Profiler.stop")
    writeFileSync(`${process.env.BENCH_PROFILE}-open.cpuprofile`, JSON.stringify(profile))
  }
  const unlockAt = await page.evaluate(() => window.__unlockAt)
  return { page, shellMs: Math.round(shell), screenMs, unlockToListMs: Math.round(at - unlockAt), rows, readMs, fromIndex }
}

/** Installs the keystroke probes in the page. */
function probe() {
  window.__keys = []
  let current = null
  document.addEventListener(
    "keydown",
    event => {
      current = { t0: event.timeStamp, h0: 0, h1: 0 }
      const mine = current
      requestAnimationFrame(() => {
        const channel = new MessageChannel()
        channel.port1.onmessage = () => mine.h1 && window.__keys.push({ handler: mine.h1 - mine.h0, frame: performance.now() - mine.t0 })
        channel.port2.postMessage(0)
      })
    },
    true,
  )
  document.addEventListener("input", () => current && (current.h0 = performance.now()), true)
  addEventListener("input", () => current && (current.h1 = performance.now()))
}

/** Types `count` characters one by one, each after the previous one's frame; the timings. */
async function typeKeys(page, count, seed) {
  const text = "Rozmowa z matka, syn chodzi do szkoly. Swietlica pomaga. "
  const start = await page.evaluate(() => window.__keys.length)
  for (let i = 0; i < count; i++) {
    await page.keyboard.press(text[(seed + i) % text.length] === " " ? "Space" : text[(seed + i) % text.length])
    await until(page, n => window.__keys.length >= n, start + i + 1)
  }
  const all = await page.evaluate(() => window.__keys)
  const mine = all.slice(start)
  return { handler: mine.map(k => Math.round(k.handler * 100) / 100), frame: mine.map(k => Math.round(k.frame * 100) / 100) }
}

async function typing(base, spec, page) {
  note("opens the case with the long note")
  await page.click(`.case-row[data-case="${spec.noteCase}"] a`)
  const area = page.locator(`[data-bind="${spec.noteBind}"]`)
  await area.waitFor({ timeout: WAIT_MS })
  const noteChars = await area.evaluate(a => a.value.length)
  await page.evaluate(probe)
  const third = Math.max(1, Math.floor(spec.keys / 3))
  note("types at the end of the note, offline")
  await area.focus()
  await page.keyboard.press("Control+End")
  const profiler = process.env.BENCH_PROFILE ? await page.context().newCDPSession(page) : null
  if (profiler) {
    await profiler.send("Profiler.enable")
    await profiler.send("Profiler.setSamplingInterval", { interval: 200 })
    await profiler.send("Profiler.start")
  }
  const end = await typeKeys(page, third, 0)
  if (profiler) {
    const { profile } = await profiler.send("Profiler.stop")
    writeFileSync(`${process.env.BENCH_PROFILE}-typing.cpuprofile`, JSON.stringify(profile))
  }
  note("types in the middle of the note, offline")
  await area.evaluate(a => a.setSelectionRange(Math.floor(a.value.length / 2), Math.floor(a.value.length / 2)))
  const middle = await typeKeys(page, third, 7)
  note("types at the end of the note, online")
  await page.context().setOffline(false)
  await syncState(page, "synced")
  await area.focus()
  await page.keyboard.press("Control+End")
  const online = await typeKeys(page, third, 13)
  note("types a key and pauses, ten times: the whole card is drawn after each pause")
  const draws = []
  for (let i = 0; i < 10; i++) {
    const before = await page.evaluate(() => performance.getEntriesByName("kooperacja:card-draw").length)
    await page.keyboard.press("a")
    const handle = await page.waitForFunction(
      n => {
        const all = performance.getEntriesByName("kooperacja:card-draw")
        return all.length > n ? all.at(-1).duration : null
      },
      before,
      { timeout: WAIT_MS, polling: "raf" },
    )
    draws.push(Math.round((await handle.jsonValue()) * 100) / 100)
  }
  const after = await area.evaluate(a => a.value.length) - 10
  if (after !== noteChars + 3 * third) throw new Error(`the note has ${after} characters, ${noteChars + 3 * third} expected`)
  await syncState(page, "synced")
  return { noteChars, typing: { end, middle, online, cardDrawMs: draws } }
}

async function scenario(spec, base) {
  const result = { firstSync: await firstSync(base, spec), listedInMs: [], unlockToListMs: [], shellMs: [], rows: [], readInMs: [], fromIndex: [] }
  let page = null
  for (let i = 0; i < spec.opens; i++) {
    note(`cold open ${i + 1} of ${spec.opens}, offline`)
    const open = await coldOpen(base, spec)
    page = open.page
    result.listedInMs.push(open.screenMs)
    result.unlockToListMs.push(open.unlockToListMs)
    result.shellMs.push(open.shellMs)
    result.rows.push(open.rows)
    result.readInMs.push(open.readMs)
    result.fromIndex.push(open.fromIndex)
  }
  Object.assign(result, await typing(base, spec, page))
  await context.close()
  context = null
  return result
}

async function diagnose() {
  const page = context?.pages()[0]
  if (!page) return null
  return page.evaluate(() => ({
    syncState: document.querySelector("[data-testid=sync-state]")?.dataset.state,
    savedOnDevice: document.documentElement.dataset.savedOnDevice,
    error: document.querySelector("#error")?.textContent,
    screen: document.querySelector("[data-testid=screen]")?.innerText.slice(0, 300),
  }))
}

async function main() {
  const spec = JSON.parse(env("BENCH_SPEC"))
  const base = env("BASE_URL")
  try {
    await run(() => scenario(spec, base), diagnose)
  } finally {
    if (context) await context.close().catch(() => undefined)
  }
}

main()
