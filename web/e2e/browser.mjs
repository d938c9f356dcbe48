// What the browser scripts share (tests/support/src/browser.rs runs them): Chromium's launch,
// trusting exactly the server's development certificate; waits; the steps taken; requests to
// the Rust test in the middle of a story; and the one result line.
//
// Inputs, in the environment:
//   BASE_URL     https://127.0.0.1:PORT
//   SERVER_CERT  the server's (self-signed development) certificate, PEM; Chromium trusts
//                exactly its public key (--ignore-certificate-errors-spki-list, honoured with a
//                --user-data-dir: Playwright gives each launch one)
//   CHROMIUM     the browser (default /usr/bin/chromium)
//
// Every wait is a condition with a timeout; nothing sleeps.

import { createHash, X509Certificate } from "node:crypto"
import { mkdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { chromium } from "playwright-core"

export const WAIT_MS = 20_000

export const env = name => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set`)
  return value
}

/** The steps taken so far (the last one is where a failure happened). */
export const steps = []
export const note = text => {
  steps.push(text)
  // On stderr too, as it happens: the test shows it even when the script never ends.
  console.error(`step: ${text}`)
}

/** base64 SHA-256 of the certificate's SubjectPublicKeyInfo: what Chromium is told to trust. */
function spkiHash(pemPath) {
  const cert = new X509Certificate(readFileSync(pemPath))
  const spki = cert.publicKey.export({ type: "spki", format: "der" })
  return createHash("sha256").update(spki).digest("base64")
}

const options = () => ({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    `--ignore-certificate-errors-spki-list=${spkiHash(env("SERVER_CERT"))}`,
  ],
})

/** A browser with a fresh, temporary profile. */
export const launch = () => chromium.launch(options())

/**
 * A browser on the profile in `userDataDir`: closing it and launching again on the same folder
 * is a real restart (IndexedDB, the service worker and its caches are on disk).
 */
export const launchPersistent = userDataDir =>
  chromium.launchPersistentContext(userDataDir, { ...options(), viewport: { width: 1280, height: 900 }, locale: "pl-PL" })

/** Waits until `fn(arg)` is true in the page. */
export const until = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: WAIT_MS, polling: "raf" })

/** Collects a page's uncaught errors and console errors. */
export function watch(page, problems) {
  page.on("pageerror", error => problems.push(`pageerror: ${error.message}`))
  page.on("console", message => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`)
  })
}

const answers = createInterface({ input: process.stdin })[Symbol.asyncIterator]()

/** Asks the Rust test for something (one JSON line out) and returns its answer (one line in). */
export async function ask(request) {
  console.log(JSON.stringify({ request }))
  const { value, done } = await answers.next()
  if (done) throw new Error(`no answer to ${JSON.stringify(request)}`)
  return JSON.parse(value)
}

/**
 * Runs `scenario()` and prints the result line; on failure, with the last step and what
 * `diagnose()` says about the pages.
 */
export async function run(scenario, diagnose = async () => null) {
  try {
    const result = await scenario()
    console.log(JSON.stringify({ ok: true, ...result, steps }))
  } catch (error) {
    const pages = await diagnose().catch(e => String(e))
    console.log(JSON.stringify({ ok: false, step: steps.at(-1), error: String(error?.stack ?? error), pages, steps }))
    process.exitCode = 1
  }
  // Browsers left open (a failure midway) must not keep the script alive.
  process.stdin.destroy()
  process.exit()
}

/**
 * With SCREENS_DIR set (e.g. `SCREENS_DIR=/tmp/screens cargo test …`), a screenshot of `page`
 * (the whole page, or the first element matching `selector`) as `name`.png there, for the docs.
 */
export async function shot(page, name, selector = null) {
  const dir = process.env.SCREENS_DIR
  if (!dir) return
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `${name}.png`)
  if (selector) await page.locator(selector).first().screenshot({ path })
  else await page.screenshot({ path, fullPage: true })
}
