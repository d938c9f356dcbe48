// What every part of a team's work shares on screen (Zespół, Porozumienie, Harmonogram, Usługi,
// Rekomendacje): the document read through the model (a document that does not read says why
// instead of drawing), a redraw at each change of the document, who may edit the part (its
// animator and the ROPS advisers assigned to it, as the server's rule `writes_pzk`), why others
// only read (refusal.pzk-part-not-editable for a member's user; read-only access for a
// coordinator), each edit committed as the signed-in user, and the Polish names of the values.

import * as M from "../../../model"
import type { AppContext } from "../../context"
import { el, rerender } from "../../screens/dom"
import { commitAs } from "../meetings/meeting-model"
import type { TabDispose } from "../tabs"
import type { Team, TeamDoc } from "../team-model"

export type PzkView = M.Pzk.PzkView

/** The part of the document a tab shows, as the server's `pzkPart` names it. */
export type PzkPart = "members" | "agreement" | "workPlan" | "services" | "recommendations" | "decision92"

/** Draws a part of the team from its view; `null` when the document is not on the device. */
export type DrawPart = (view: PzkView) => Array<Node | string>

/** Draws `draw` into `host` now and at every change of the team's document. */
export function livePart(host: HTMLElement, team: Team, draw: DrawPart): TabDispose {
  const redraw = () => {
    const doc = team.handle.doc()
    if (!doc) return rerender(host, el("p", { class: "muted" }, "Dokumentu zespołu nie ma jeszcze na tym urządzeniu."))
    let view: PzkView
    try {
      view = M.Pzk.readPzk(doc)
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error)
      return rerender(host, el("p", { class: "error", "data-testid": "pzk-unreadable" }, `Nie można odczytać dokumentu zespołu: ${why}`))
    }
    rerender(host, ...draw(view))
  }
  redraw()
  team.handle.on("change", redraw)
  return () => team.handle.off("change", redraw)
}

/** Whether the signed-in user edits the team's parts (its animator or an assigned ROPS adviser). */
export const edits = (team: Team) => team.runs

/** Why the user only reads `part`, or nothing for who edits it. */
export function readOnlyReason(team: Team, part: PzkPart): HTMLElement | string {
  if (edits(team)) return ""
  if (team.entry.access !== "read-write") {
    const text = "Tylko do odczytu: masz wgląd w pracę zespołu (np. jako koordynator), bez prawa zmian."
    return el("p", { class: "muted read-only-reason", "data-testid": "read-only-reason", "data-part": part }, text)
  }
  // The server's reason for refusing a member's change of this part, told before any is tried.
  const reason = M.message("refusal.pzk-part-not-editable", { part }).replace(/^[^:]*:\s*/, "")
  const text = `Tylko do odczytu: ${reason.charAt(0).toUpperCase()}${reason.slice(1)}`
  return el("p", { class: "muted read-only-reason", "data-testid": "read-only-reason", "data-part": part, "data-code": "refusal.pzk-part-not-editable" }, text)
}

/** Makes one edit of the team's document as the signed-in user (the model checks the rules). */
export function change(
  context: AppContext,
  team: Team,
  build: (doc: TeamDoc, by: M.Editor, at: Date) => M.Edit<TeamDoc> | null,
): void {
  commitAs(context, team.handle, build)
}

/** A new id for an entry of the team's document. */
export const newId = (prefix: string) => M.newId(prefix)

/** The catalogue's label kinds of the PZK's values (sync-core/messages/pl.json). */
const LABELS = {
  sector: "institutionSector",
  role: "memberRole",
  milestone: "milestoneStatus",
  agreement: "agreementStatus",
  category: "recommendationCategory",
  decision: "teamDecision",
} as const

/** The Polish name of `value` of a kind of the PZK's values. */
export const labelOf = (kind: keyof typeof LABELS, value: string) => M.label(LABELS[kind], value)

/** `[value, Polish name]` pairs for a select. */
export const optionsOf = (kind: keyof typeof LABELS, values: readonly string[]) =>
  values.map(v => [v, labelOf(kind, v)] as const)
