// The case card: every part of a case, redrawn part by part as the document changes (here or
// on another device), never losing the field the worker is typing in. A partner member's card
// shows what their work needs: the stage, the diagnosis (their own sector writable when the
// case is shared with their institution for writing), the plan and the consultations.

import { attachmentsSection, scansOfSigning } from "../attachments/section"
import type { AppContext } from "../context"
import { basket } from "./basket"
import { cardHead } from "./card-head"
import { openCase, type OpenedCase } from "./case-model"
import { closing } from "./closing"
import { consents } from "./consents"
import { consultations } from "./consultations"
import { contract } from "./contract"
import { diagnosis } from "./diagnosis"
import { el, rerender } from "./dom"
import { history, lastVisit, rememberVisit } from "./history"
import { household } from "./household"
import { intake } from "./intake"
import { justiceSection } from "./justice"
import { monitoring } from "./monitoring"
import { plan } from "./plan"
import { rectification } from "./rectification"
import { sharing } from "./sharing"

type Part = (opened: OpenedCase, since: Date | null) => HTMLElement

/** How long after a keystroke in a text field the rest of the card waits to be drawn. */
const TYPING_PAUSE_MS = 300

const WORKER_PARTS: Part[] = [
  o => cardHead(o.data(), o.edits, o.access),
  o => household(o.data(), o.edits, o.access),
  o => rectification(o.data(), o.edits, o.access),
  o => intake(o.data(), o.edits, o.choices, o.access),
  o => diagnosis(o.data(), o.edits, o.access),
  o => plan(o.data(), o.edits, o.choices, o.access),
  o => basket(o.data(), o.edits, o.choices, o.access),
  o => contract(o.data(), o.edits, o.choices, o.access, i => scansOfSigning(o.data().documentId, o.attachments(), i)),
  o => monitoring(o.data(), o.edits, o.choices, o.access),
  o => closing(o.data(), o.edits, o.choices, o.access),
  o => consents(o.data(), o.edits, o.access),
  o => consultations(o.data(), o.edits, o.access, o.choices),
  o => attachmentsSection(o.data(), o.attachments(), o.access, a => o.attach(a)),
  o => justiceSection(o.justice.state(), e => o.justice.add(e)),
  (o, since) => history(o.history(), since),
]

const PARTNER_PARTS: Part[] = [
  o => cardHead(o.data(), o.edits, o.access),
  o => diagnosis(o.data(), o.edits, o.access),
  o => plan(o.data(), o.edits, o.choices, o.access),
  o => consultations(o.data(), o.edits, o.access, o.choices),
  o => attachmentsSection(o.data(), o.attachments(), o.access, a => o.attach(a)),
  o => justiceSection(o.justice.state(), e => o.justice.add(e)),
  (o, since) => history(o.history(), since),
]

export async function showCard(host: HTMLElement, context: AppContext, documentId: string): Promise<() => void> {
  const opened = await openCase(context, documentId)
  const since = lastVisit(context.me.login, documentId)
  const parts = opened.access.partner ? PARTNER_PARTS : WORKER_PARTS
  const slots = parts.map(() => el("div", { class: "slot" }))
  const card = el(
    "div",
    {
      class: "case-card",
      "data-testid": "case-card",
      "data-document": documentId,
      ...(opened.access.canWrite ? {} : { "data-read-only": "" }),
    },
    ...slots,
  )
  if (opened.access.canWrite && !opened.access.partner) card.append(sharing(documentId, context.tokens))
  host.replaceChildren(card)
  const draw = () => {
    const started = performance.now()
    parts.forEach((part, i) => {
      try {
        rerender(slots[i], part(opened, since))
      } catch (error) {
        rerender(slots[i], el("p", { class: "refusal", role: "alert" }, `Tej części nie da się pokazać: ${(error as Error).message}`))
      }
    })
    // For the benchmark (bench/case-app.sh): how long drawing the whole card takes.
    performance.measure("kooperacja:card-draw", { start: started })
  }
  // Changes arrive in bursts (a sync round, a keystroke): draw once per frame at most. While the
  // worker types, the field already shows what she typed: the rest of the card (the history
  // line of this edit, say) is drawn once she pauses, so a keystroke costs only its own edit
  // (docs/benchmarks.md: drawing the whole card per keystroke took 40 ms in a long note).
  let queued = false
  let typingUntil = 0
  card.addEventListener("input", event => {
    if ((event.target as HTMLElement).matches?.("textarea[data-bind]")) typingUntil = performance.now() + TYPING_PAUSE_MS
  })
  const schedule = () => {
    if (queued) return
    queued = true
    const frame = () => {
      const wait = typingUntil - performance.now()
      if (wait > 0) return void setTimeout(frame, wait)
      requestAnimationFrame(() => {
        queued = false
        draw()
      })
    }
    frame()
  }
  draw()
  const stop = opened.onChange(schedule)
  return () => {
    stop()
    rememberVisit(context.me.login, documentId)
  }
}
