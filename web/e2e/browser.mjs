// What every browser script of web/e2e shares: its inputs, Chromium launched to trust exactly
// the server's development certificate (by its public key), waits on conditions with a timeout
// (never sleeps), the steps taken (for a failure report) and latency summaries.
//
// Inputs, in the environment (tests/support/src/browser.rs sets them):
//   E2E_BASE_URL   https://127.0.0.1:PORT
//   E2E_CERT       the server's self-signed development certificate, PEM
//   CHROMIUM       the browser (default /usr/bin/chromium)

import { createHash, X509Certificate } from "node:crypto"
import { readFileSync } from "node:fs"
import { chromium } from "playwright-core"

export const WAIT_MS = 20_000

export const env = name => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set`)
  return value
}

/** The steps taken, the last one being where a failure happened. */
export const steps = { current: "start", log: [] }

export const note = text => {
  steps.current = text
  steps.log.push(text)
}

/** base64 SHA-256 of the certificate's SubjectPublicKeyInfo: what Chromium is told to trust. */
function spkiHash(pemPath) {
  const cert = new X509Certificate(readFileSync(pemPath))
  const spki = cert.publicKey.export({ type: "spki", format: "der" })
  return createHash("sha256").update(spki).digest("base64")
}

function chromiumArgs() {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    `--ignore-certificate-errors-spki-list=${spkiHash(env("E2E_CERT"))}`,
  ]
}

/** A browser whose every context has a fresh, temporary profile. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: chromiumArgs(),
  })
}

/**
 * A browser with a profile kept in `userDataDir`: closing it and launching again on the same
 * folder is closing and reopening the browser on a device.
 */
export async function launchPersistent(userDataDir, options = {}) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: chromiumArgs(),
    viewport: { width: 1280, height: 900 },
    locale: "pl-PL",
    timezoneId: "Europe/Warsaw",
    ...options,
  })
}

/** Collects the page's uncaught errors and console errors into `problems`. */
export function watch(page, problems) {
  page.on("pageerror", error => problems.push(`pageerror: ${error.message}`))
  page.on("console", message => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`)
  })
}

/** Waits until `fn(arg)` is true in the page, checking at every frame. */
export const until = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: WAIT_MS, polling: "raf" })

/** n, p50, p99, min and max of latency samples (milliseconds, two decimals). */
export function summary(values) {
  const sorted = [...values].sort((x, y) => x - y)
  const at = q => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
  const round = x => Math.round(x * 100) / 100
  return { n: sorted.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1)), min: round(sorted[0]) }
}

/** Runs `scenario` and prints its one JSON line; `pagesState` says what the pages showed. */
export async function report(scenario, pagesState = async () => []) {
  try {
    const result = await scenario()
    console.log(JSON.stringify({ ok: true, ...result, steps: steps.log }))
  } catch (error) {
    const pages = await pagesState().catch(() => [])
    console.log(JSON.stringify({ ok: false, step: steps.current, error: String(error?.stack ?? error), pages, steps: steps.log }))
    process.exitCode = 1
  }
}
