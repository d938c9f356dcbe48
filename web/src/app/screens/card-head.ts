// The head of a case card: the family, the stage bar (with a stage set on two devices at once),
// the next planned visit.

import { conflictView } from "./conflict-view"
import { button, el, field, input, when } from "./dom"
import type { Access, CaseData, CaseEdits } from "./port"
import { stageBar } from "./stage-bar"

export function cardHead(data: CaseData, edits: CaseEdits, access: Access): HTMLElement {
  const readOnly = !access.canWrite || access.partner
  const head = el(
    "header",
    { class: "card case-head", "data-section": "head" },
    el("h2", { "data-testid": "case-title" }, data.title),
    el(
      "p",
      { class: "muted" },
      `Prowadzi: ${data.owner} (${data.leadInstitution})`,
      data.referral.at ? ` · zgłoszenie ${when(data.referral.at)}` : "",
    ),
  )
  if (data.stage.conflict) {
    head.append(conflictView("stage", data.stage.conflict, readOnly, value => edits.resolveStage(value)))
  }
  head.append(
    stageBar({
      stages: data.stages,
      current: data.stage.value,
      moves: data.moves,
      readOnly,
      move: to => edits.move(to),
    }),
  )
  if (!access.partner) head.append(nextVisit(data, edits, readOnly))
  return head
}

function nextVisit(data: CaseData, edits: CaseEdits, readOnly: boolean): HTMLElement {
  const date = input({ type: "date", "data-testid": "next-visit", "data-bind": "next-visit" }, data.nextVisit ?? "")
  date.readOnly = readOnly
  const row = el("div", { class: "row" }, field("Następna wizyta", date))
  if (!readOnly) {
    row.append(button("Zapisz termin", () => edits.setNextVisit(date.value || null), { "data-testid": "save-next-visit" }))
  }
  return row
}
