// Two members of different institutions meet on the meeting page in headless Chromium
// (Debian's `chromium`, driven by playwright-core): they log in with one-time codes, open the
// meeting, see the agenda, the services and each other (presence), write the minutes together,
// one of them goes offline, writes and records a decision, comes back, and both converge.
//
// tests/tests/meeting_page.rs sets up the server and runs this (see browser.mjs for the
// shared inputs and the result line). Its own inputs, in the environment:
//   MEETING_SPEC       JSON: {document, meeting, a: {code, login, name, institution_name},
//                      b: {...}, reader: {code, login} (optional, read-only),
//                      agenda: [titles in order], services: [descriptions]}
//   MEETING_LATENCY_SAMPLES  how many presence and keystroke latency samples to take (0: none)
//   MEETING_SCREENSHOT a path for a screenshot of the first member's page (optional)

import { env, launch, note, run, until, WAIT_MS, watch } from "./browser.mjs"

/** The PIN each member chooses for the device's encrypted store. */
const PIN = "135790"
const members = []

/** One member's browser context and page, with what went wrong in it. */
async function member(browser, who, base) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "pl-PL" })
  const page = await context.newPage()
  const problems = []
  watch(page, problems)
  await page.goto(`${base}/`)
  const m = { who, context, page, problems }
  members.push(m)
  return m
}

async function logIn(m, spec, meeting) {
  note(`${m.who.login}: logs in`)
  await m.page.fill("#code", m.who.code)
  await m.page.click("[data-testid=login]")
  note(`${m.who.login}: chooses the PIN of the device's store`)
  await m.page.fill("#pin-new", PIN)
  await m.page.fill("#pin-repeat", PIN)
  await m.page.click("[data-testid=pin-set]")
  note(`${m.who.login}: picks the meeting`)
  const link = m.page.locator(`#meetings li[data-meeting="${meeting}"] a`)
  await link.waitFor({ timeout: WAIT_MS })
  await link.click()
  await m.page.waitForURL(`**/meeting/${spec.document}/${meeting}`, { timeout: WAIT_MS })
  await until(m.page, () => !document.getElementById("meeting-view").hidden)
}

const minutes = page => page.$eval("#minutes", t => t.value)

/** Waits until every page's minutes hold every piece of `texts` and are the same text. */
async function converged(pages, texts) {
  for (const page of pages) {
    await until(page, wanted => wanted.every(t => document.getElementById("minutes").value.includes(t)), texts)
  }
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const values = await Promise.all(pages.map(minutes))
    if (values.every(v => v === values[0])) return values[0]
    if (Date.now() > deadline) throw new Error(`the minutes differ: ${JSON.stringify(values)}`)
    // Wait for the next change on either side (the last remote edit may land on either).
    const changed = (page, old) =>
      until(page, was => document.getElementById("minutes").value !== was, old).catch(() => undefined)
    await Promise.race(pages.map((page, i) => changed(page, values[i])))
  }
}

async function typeAtEnd(page, text) {
  await page.focus("#minutes")
  await page.keyboard.press("Control+End")
  await page.keyboard.type(text)
}

async function scenario(browser, spec, base) {
  const a = await member(browser, spec.a, base)
  const b = await member(browser, spec.b, base)
  const result = {}

  note("a wrong code is refused with a clear message")
  await a.page.fill("#code", "ZLY-KOD-123")
  await a.page.click("[data-testid=login]")
  await until(a.page, () => {
    const box = document.getElementById("error")
    return !box.hidden && box.textContent.includes("Logowanie nie powiodło się")
  })
  result.wrongCodeMessage = await a.page.textContent("[data-testid=error-text]")

  await logIn(a, spec, spec.meeting)
  await logIn(b, spec, spec.meeting)
  const pages = [a.page, b.page]

  note("each sees the agenda and the services")
  for (const page of pages) {
    await until(page, titles => [...document.querySelectorAll("#agenda li")].map(li => li.textContent).join("|") === titles.join("|"), spec.agenda)
    await until(page, wanted => wanted.every(d => document.getElementById("services").textContent.includes(d)), spec.services)
  }

  note("each sees the other present, with name, institution and focus")
  for (const [m, other] of [[a, b], [b, a]]) {
    await until(
      m.page,
      o => {
        const li = document.querySelector(`#presence li[data-login="${o.login}"]`)
        return Boolean(li && li.textContent.includes(o.name) && li.textContent.includes(o.institution_name) && li.dataset.focus)
      },
      other.who,
    )
  }
  await a.page.focus("#minutes")
  await until(b.page, login => {
    const li = document.querySelector(`#presence li[data-login="${login}"]`)
    return li?.dataset.focus === "minutes" && li?.dataset.editing === "true"
  }, a.who.login)
  result.presenceSeenByB = await b.page.textContent(`#presence li[data-login="${a.who.login}"]`)

  if (spec.reader) {
    note("a coordinator opens the meeting read-only")
    const c = await member(browser, spec.reader, base)
    await logIn(c, spec, spec.meeting)
    await until(c.page, titles => document.querySelectorAll("#agenda li").length === titles.length, spec.agenda)
    result.readerReadOnly = await c.page.evaluate(
      () => document.getElementById("minutes").readOnly && document.getElementById("decision-form").hidden,
    )
    await c.context.close()
    members.splice(members.indexOf(c), 1)
  }

  note("both write the minutes and see each other's text")
  const lineA = "Otwarcie spotkania (A). "
  await typeAtEnd(a.page, lineA)
  await converged(pages, [lineA])
  const lineA2 = "Szkoła: potrzebne korepetycje. "
  const lineB = "Policja: rodzina objęta dzielnicowym. "
  await Promise.all([typeAtEnd(a.page, lineA2), (async () => {
    await b.page.focus("#minutes")
    await b.page.keyboard.press("Control+Home")
    await b.page.keyboard.type(lineB)
  })()])
  await converged(pages, [lineA, lineA2, lineB])

  note("attendance recorded in one shows in the other")
  await a.page.selectOption(`#attendance select[data-person="${b.who.login}"]`, "video")
  await until(b.page, p => document.querySelector(`#attendance tr[data-person="${p}"]`)?.dataset.attendance === "video", b.who.login)
  await b.page.selectOption(`#attendance select[data-person="${a.who.login}"]`, "in_person")
  await until(a.page, p => document.querySelector(`#attendance tr[data-person="${p}"]`)?.dataset.attendance === "in_person", a.who.login)

  note("b goes offline, writes and decides; a writes meanwhile")
  await b.context.setOffline(true)
  await until(b.page, () => document.getElementById("connection").dataset.state === "offline")
  const offlineB = "[B offline: uzgodniono wizytę] "
  const duringA = "[A w tym czasie: termin 12.03] "
  const decision = "Szkoła organizuje korepetycje od marca."
  await typeAtEnd(b.page, offlineB)
  await b.page.fill("#decision-text", decision)
  await b.page.click("[data-testid=add-decision]")
  await until(b.page, d => document.getElementById("decisions").textContent.includes(d), decision)
  await typeAtEnd(a.page, duringA)
  const bWhileOffline = await minutes(b.page)
  result.offlineIsolated = !bWhileOffline.includes(duringA)

  note("b comes back; both converge")
  await b.context.setOffline(false)
  await until(b.page, () => document.getElementById("connection").dataset.state === "online")
  result.minutesAfterReconnect = await converged(pages, [lineA, lineA2, lineB, offlineB, duringA])
  await until(a.page, d => document.getElementById("decisions").textContent.includes(d), decision)
  result.decision = decision

  note("no page showed an error")
  for (const m of [a, b]) {
    const shown = await m.page.$eval("#error", box => (box.hidden ? "" : box.textContent))
    if (shown) throw new Error(`${m.who.login}'s page shows an error: ${shown}`)
  }

  if (process.env.MEETING_SCREENSHOT) {
    note("screenshot")
    await a.page.focus("#minutes")
    await a.page.screenshot({ path: process.env.MEETING_SCREENSHOT, fullPage: true })
  }

  const samples = Number(process.env.MEETING_LATENCY_SAMPLES || "0")
  if (samples > 0) {
    note("latency")
    result.latency = {
      samples,
      presence: summary(await presenceLatency(a, b, samples)),
      keystroke: summary(await keystrokeLatency(a, b, samples)),
    }
  }
  // The latency samples typed into the minutes too: report what the pages hold at the end.
  result.minutes = await converged(pages, [])
  result.problems = [...a.problems, ...b.problems]
  return result
}

/** From a's focus moving to another section to b's presence list showing it. */
async function presenceLatency(a, b, samples) {
  await b.page.evaluate(login => {
    window.__seen = null
    window.__want = null
    new MutationObserver(() => {
      const li = document.querySelector(`#presence li[data-login="${login}"]`)
      if (window.__want && li?.dataset.focus === window.__want && window.__seen === null) {
        window.__seen = performance.timeOrigin + performance.now()
      }
    }).observe(document.getElementById("presence"), { subtree: true, childList: true, attributes: true })
  }, a.who.login)
  const sections = ["agenda", "services", "decisions", "attendance"]
  const out = []
  for (let i = 0; i < samples; i++) {
    const section = sections[i % sections.length]
    await b.page.evaluate(s => {
      window.__seen = null
      window.__want = s
    }, section)
    // Both pages read one clock (same machine): high-resolution epoch milliseconds.
    const sent = await a.page.evaluate(s => {
      const t0 = performance.timeOrigin + performance.now()
      document.querySelector(`.card[data-section="${s}"]`).focus()
      return t0
    }, section)
    await until(b.page, () => window.__seen !== null)
    out.push((await b.page.evaluate(() => window.__seen)) - sent)
  }
  return out
}

/** From a key going down in a's minutes to b's minutes holding the character. */
async function keystrokeLatency(a, b, samples) {
  await a.page.evaluate(() => {
    document.getElementById("minutes").addEventListener(
      "keydown",
      () => {
        window.__down = performance.timeOrigin + performance.now()
      },
      { capture: true },
    )
  })
  await b.page.evaluate(() => {
    const area = document.getElementById("minutes")
    const proto = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value")
    window.__want = Infinity
    window.__seen = null
    Object.defineProperty(area, "value", {
      configurable: true,
      get() {
        return proto.get.call(this)
      },
      set(v) {
        proto.set.call(this, v)
        if (window.__seen === null && v.length >= window.__want) {
          window.__seen = performance.timeOrigin + performance.now()
        }
      },
    })
  })
  await typeAtEnd(a.page, " ")
  await converged([a.page, b.page], [])
  const out = []
  for (let i = 0; i < samples; i++) {
    const length = (await minutes(a.page)).length
    await b.page.evaluate(n => {
      window.__seen = null
      window.__want = n
    }, length + 1)
    await a.page.keyboard.type(i % 10 === 9 ? " " : "x")
    await until(b.page, () => window.__seen !== null)
    const down = await a.page.evaluate(() => window.__down)
    out.push((await b.page.evaluate(() => window.__seen)) - down)
  }
  return out
}

function summary(values) {
  const sorted = [...values].sort((x, y) => x - y)
  const at = q => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
  const round = x => Math.round(x * 100) / 100
  return { n: sorted.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1)), min: round(sorted[0]) }
}

async function main() {
  const spec = JSON.parse(env("MEETING_SPEC"))
  const base = env("BASE_URL")
  const browser = await launch()
  try {
    await run(() => scenario(browser, spec, base), pagesState)
  } finally {
    await browser.close()
  }
}

/** What each page showed and logged, for a failure report. */
async function pagesState() {
  return Promise.all(
    members.map(async m => ({
      login: m.who.login,
      url: m.page.url(),
      error: await m.page.$eval("#error", box => (box.hidden ? "" : box.textContent)).catch(e => String(e)),
      problems: m.problems,
    })),
  )
}

await main()
