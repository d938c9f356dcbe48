// Attachments in the case app, in headless Chromium with profiles kept on disk (see
// e2e/browser.mjs). tests/tests/case_app_attachments.rs sets up the server and a case with a
// signed contract, runs this, then checks the server's copy of the file. Prints one JSON line.
//
// Inputs, in the environment: BASE_URL, SERVER_CERT, CHROMIUM and
//   ATTACH_SPEC  JSON: {profiles, pin, worker: {code, login}, workerSecond: {code, login},
//                document (the case's id), photo (path of a JPEG carrying GPS EXIF), marker
//                (a string inside that EXIF), caption, pdf (path of a PDF of 1.5 MB)}
//
// The story: the worker, offline, photographs the signed contract (the camera input) and
// attaches it to the signing; a file of another type is refused in Polish; the device's store
// holds the photo only sealed, and the photo as stored has no EXIF; she closes the browser,
// opens it again offline and still sees and opens the photo; online, it uploads ("wysłane").
// Her second device sees the entry, the file "na serwerze", downloads it on demand and shows
// it; files not opened for the set number of days are evicted there. Signing out wipes the
// first device, files included.

import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { join } from "node:path"

import { WAIT_MS, launchPersistent, note, watch } from "./browser.mjs"
import { caseload, enter, runStory, syncState } from "./case-app-steps.mjs"

const opened = []

async function device(spec, name, { offline = false } = {}) {
  const context = await launchPersistent(join(spec.profiles, name))
  if (offline) await context.setOffline(true)
  const page = context.pages()[0] ?? (await context.newPage())
  const problems = []
  watch(page, problems)
  page.on("dialog", dialog => void dialog.accept())
  const d = { name, context, page, problems }
  opened.push(d)
  return d
}

async function close(d) {
  await d.context.close()
  opened.splice(opened.indexOf(d), 1)
}

/** Opens the case's card from the caseload (once the case is listed there). */
async function openCard(page, id) {
  await caseload(page)
  const link = page.locator(`.case-row a[href="#/sprawa/${id}"]`)
  await link.waitFor({ timeout: WAIT_MS })
  await link.click()
  await page.locator(`[data-testid=case-card][data-document="${id}"]`).waitFor({ timeout: WAIT_MS })
}

const tile = (page, where = "[data-section=attachments]") => page.locator(`${where} k-zalacznik`).first()

/** Waits until the first tile in `where` shows `state` (its `data-state`); returns its text. */
async function tileState(page, state, where) {
  const shown = tile(page, where).locator(`[data-testid=attachment-state][data-state=${state}]`)
  await shown.waitFor({ timeout: WAIT_MS })
  return shown.textContent()
}

/**
 * Opens the first attachment (it shows) and saves it with the viewer's link; returns the saved
 * file's SHA-256, size, whether it is a JPEG, which of `needles` it holds, and 32 of its bytes.
 */
async function openAndRead(page, needles) {
  await tile(page).locator("[data-testid=attachment-open]").click()
  const view = page.locator("[data-testid=attachment-viewer] [data-testid=attachment-view]")
  await view.waitFor({ timeout: WAIT_MS })
  const shownWidth = await view.evaluate(img => img.decode().then(() => img.naturalWidth))
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: WAIT_MS }),
    page.click("[data-testid=attachment-viewer] a[download]"),
  ])
  const bytes = readFileSync(await download.path())
  await page.click("[data-testid=attachment-close]")
  const latin1 = bytes.toString("latin1")
  return {
    sha256: createHash("sha256").update(bytes).digest("hex"),
    size: bytes.length,
    jpeg: bytes[0] === 0xff && bytes[1] === 0xd8,
    found: needles.filter(w => latin1.includes(w)),
    // 32 bytes from the middle (entropy-coded image data, not a run of zeros).
    window: latin1.slice(bytes.length >> 1, (bytes.length >> 1) + 32),
    shownWidth,
  }
}

/** What the device's raw IndexedDB holds: per store, how many values, and which needles appear. */
function rawStore(page, needles) {
  return page.evaluate(async words => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open("kooperacja")
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error)
    })
    const found = new Set()
    const counts = {}
    const check = value => {
      if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
        const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer)
        let latin1 = ""
        for (const b of bytes) latin1 += String.fromCharCode(b)
        const utf8 = new TextDecoder().decode(bytes)
        for (const w of words) if (latin1.includes(w) || utf8.includes(w)) found.add(w)
      } else if (value && typeof value === "object") {
        Object.values(value).forEach(check)
      } else {
        for (const w of words) if (String(value).includes(w)) found.add(w)
      }
    }
    for (const name of db.objectStoreNames) {
      const values = await new Promise(resolve => {
        const request = db.transaction(name).objectStore(name).getAll()
        request.onsuccess = () => resolve(request.result)
      })
      counts[name] = values.length
      values.forEach(check)
    }
    db.close()
    return { counts, found: [...found] }
  }, needles)
}

async function scenario(spec, base) {
  const result = {}
  const id = spec.document
  note("the worker's tablet gets the case while online")
  let a = await device(spec, "worker")
  await enter(a.page, base, spec.worker, spec.pin)
  await syncState(a.page, "synced")
  await openCard(a.page, id)

  note("goes offline and photographs the signed contract, attached to its signing")
  await a.context.setOffline(true)
  await syncState(a.page, "offline")
  await a.page.selectOption("[data-testid=attachment-kind-choice]", "signed_contract")
  await a.page.fill("[data-testid=attachment-caption-input]", spec.caption)
  await a.page.selectOption("[data-testid=attachment-link]", "signature:0")
  await a.page.setInputFiles("[data-testid=attach-camera]", spec.photo)
  result.offlineState = await tileState(a.page, "local")
  const first = tile(a.page)
  result.sha256 = await first.getAttribute("data-sha256")
  result.mime = await first.getAttribute("data-mime")
  result.kind = await first.locator("[data-testid=attachment-kind]").textContent()
  result.thumbnail = await first.locator("[data-testid=attachment-thumbnail]").count()
  result.besideSigning = await a.page.locator("[data-testid=signing-scans] k-zalacznik").count()

  note("a file of another type is refused in Polish, and nothing is attached")
  await a.page.setInputFiles("[data-testid=attach-file]", {
    name: "notatka.docx",
    mimeType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    buffer: Buffer.from("PK\u0003\u0004 not a scan nor a photo"),
  })
  const refusal = a.page.locator("[data-section=attachments] [data-testid=refusal]")
  await refusal.waitFor({ timeout: WAIT_MS })
  result.refusal = await refusal.textContent()
  result.tilesAfterRefusal = await a.page.locator("[data-section=attachments] k-zalacznik").count()

  note("the photo as stored has no EXIF and no GPS; the store holds it only sealed")
  const needles = ["Exif", spec.marker, "KooperacjaTestPhone"]
  result.stored = await openAndRead(a.page, needles)
  result.raw = await rawStore(a.page, ["JFIF", spec.marker, spec.caption, result.stored.window])
  delete result.stored.window

  note("closes the browser and opens it again, offline: the photo is there")
  await close(a)
  a = await device(spec, "worker", { offline: true })
  await enter(a.page, base, spec.worker, spec.pin)
  await openCard(a.page, id)
  result.afterReopen = {
    state: await tileState(a.page, "local"),
    thumbnail: await tile(a.page).locator("[data-testid=attachment-thumbnail]").count(),
    opened: (await openAndRead(a.page, [])).sha256,
  }

  note("comes online: the queue sends it")
  await a.context.setOffline(false)
  result.sentState = await tileState(a.page, "sent")
  await syncState(a.page, "synced")

  note("a long PDF: the connection drops after its first part; the upload resumes where it stopped")
  let puts = 0
  const cut = route => {
    if (route.request().method() !== "PUT") return route.continue()
    puts += 1
    return puts === 1 ? route.continue() : route.abort("connectionreset")
  }
  await a.context.route("**/attachments/**", cut)
  await a.page.selectOption("[data-testid=attachment-kind-choice]", "external_document")
  await a.page.fill("[data-testid=attachment-caption-input]", "Opinia szkoły")
  await a.page.selectOption("[data-testid=attachment-link]", "none")
  await a.page.setInputFiles("[data-testid=attach-file]", spec.pdf)
  const pdf = "[data-section=attachments] .attachment:has(k-zalacznik[data-mime='application/pdf'])"
  result.pdf = { paused: await tileState(a.page, "paused", pdf) }
  result.pdf.icon = await a.page.locator(`${pdf} [data-testid=attachment-icon]`).textContent()
  await a.context.unroute("**/attachments/**", cut)
  // The connection comes back: the queue goes on at once.
  await a.context.setOffline(true)
  await a.context.setOffline(false)
  result.pdf.sent = await tileState(a.page, "sent", pdf)
  result.pdf.sha256 = await a.page.locator(`${pdf} k-zalacznik`).getAttribute("data-sha256")
  result.pdf.puts = puts

  note("the second device sees the entry, the file on the server, and downloads it on demand")
  const b = await device(spec, "worker-second")
  await enter(b.page, base, spec.workerSecond, spec.pin)
  await openCard(b.page, id)
  result.second = { before: await tileState(b.page, "remote") }
  result.second.caption = await tile(b.page).locator("[data-testid=attachment-caption]").textContent()
  result.second.opened = await openAndRead(b.page, needles)
  delete result.second.opened.window
  result.second.after = await tileState(b.page, "cached")
  result.second.thumbnail = await tile(b.page).locator("[data-testid=attachment-thumbnail]").count()

  note("files not opened for the set number of days leave the second device")
  await b.page.evaluate(() => localStorage.setItem("kooperacja.attachmentsKeepDays", "0"))
  await b.page.reload()
  await enter(b.page, base, spec.workerSecond, spec.pin)
  await openCard(b.page, id)
  result.second.evicted = await tileState(b.page, "remote")
  result.second.evictedRaw = (await rawStore(b.page, [])).counts
  await close(b)

  note("signing out wipes the first device, its files too")
  await a.page.click("[data-testid=logout]")
  await a.page.locator("[data-testid=notice-wiped-wylogowano]").waitFor({ timeout: WAIT_MS })
  await a.page.locator("#code").waitFor({ timeout: WAIT_MS })
  result.afterWipe = (await rawStore(a.page, [])).counts

  // Requests failing while offline, or cut by this story, are what it does, not problems.
  const offline = /ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_RESET/
  result.problems = opened.flatMap(d => d.problems.filter(p => !offline.test(p)).map(p => `${d.name}: ${p}`))
  for (const d of [...opened]) await close(d)
  return result
}

runStory("ATTACH_SPEC", opened, scenario, async d => ({
  tiles: await d.page
    .locator("k-zalacznik [data-testid=attachment-state]")
    .allTextContents()
    .catch(e => String(e)),
}))
