// A meeting's page, to run it: the plan (date, mode, the video call's link, agenda, invited
// institutions), who is connected now (live presence, web/src/presence.ts), the attendance,
// the minutes typed together (each keystroke a diff of the Text, so everyone's edits merge),
// the decisions, and the approval of the minutes: "Zatwierdź protokół" for the team's animator;
// the others see why they may not, in the catalogue's words. Once approved, the meeting is
// read-only for everyone (the model refuses `meeting.frozen`, and so does the server).

import * as M from "../../../model"
import { MeetingPresence, type PresentPeer } from "../../../presence"
import type { AppContext } from "../../context"
import { markSeenIfNew } from "../../news/news-model"
import { button, day, el, rerender, reportError, when } from "../../screens/dom"
import { textField } from "../../screens/text-field"
import type { TabDispose } from "../tabs"
import { animates, type Team } from "../team-model"
import { attendanceTable } from "./attendance"
import { commitAs, memberInstitutions, modeLabel, type MeetingView } from "./meeting-model"
import { meetingHref } from "./paths"

const section = (name: string, title: string, ...children: Array<Node | string>) =>
  el("section", { class: "card", "data-section": name }, el("h3", {}, title), ...children)

function plan(team: Team, view: MeetingView): HTMLElement {
  const doc = team.handle.doc() ?? {}
  const names = new Map(memberInstitutions(doc).map(i => [i.id, i.name]))
  const agenda = Object.entries(view.agenda).sort(([a, x], [b, y]) => x.order - y.order || a.localeCompare(b))
  return el(
    "div",
    { class: "meeting-plan" },
    el("p", { "data-testid": "meeting-when" }, `${when(view.date)} · ${modeLabel(view.mode)}`),
    view.link ? el("p", {}, "Wideorozmowa: ", el("a", { href: view.link, target: "_blank", rel: "noopener", "data-testid": "meeting-call" }, view.link)) : "",
    el("p", { class: "muted", "data-testid": "meeting-invited" }, "Zaproszeni: ", Object.keys(view.invitations).map(i => names.get(i) ?? i).join(", ") || "nikt"),
    section("agenda", "Porządek", el("ol", { "data-testid": "meeting-agenda-list" }, ...agenda.map(([id, item]) => el("li", { "data-item": id }, item.title)))),
  )
}

/** The approval: the animator's button (with a confirmation), or why not, or who approved. */
function approval(context: AppContext, team: Team, id: string, view: MeetingView, confirming: { on: boolean; redraw: () => void }): HTMLElement {
  if (view.minutesApproved) {
    const { by, at } = view.minutesApproved
    return section(
      "approval",
      "Zatwierdzenie protokołu",
      el("p", { class: "approved", "data-testid": "approved" }, `Protokół zatwierdził ${by}, ${when(at)}. Spotkanie jest zamknięte: nie można już niczego w nim zmienić.`),
    )
  }
  if (!animates(context.me, team.handle.doc())) {
    // The server's refusal in the catalogue's words, without its "the server refused" opening.
    const refusal = M.message("refusal.minutes-approval-not-allowed", { meeting: `z ${day(view.date)}` })
    const rule = refusal.slice(refusal.indexOf(":") + 1).trim()
    const why = rule.charAt(0).toUpperCase() + rule.slice(1)
    const b = el("button", { type: "button", disabled: "disabled", "data-testid": "approve-minutes" }, "Zatwierdź protokół")
    return section("approval", "Zatwierdzenie protokołu", b, el("p", { class: "muted", "data-testid": "approve-why" }, why))
  }
  if (!confirming.on) {
    const ask = button("Zatwierdź protokół", () => {
      confirming.on = true
      confirming.redraw()
    }, { "data-testid": "approve-minutes" })
    return section("approval", "Zatwierdzenie protokołu", ask)
  }
  const approve = button("Tak, zatwierdzam", () => {
    confirming.on = false
    commitAs(context, team.handle, (d, by, at) => M.Meetings.approveMinutes(d, id, by, at))
  }, { "data-testid": "approve-confirm" })
  const cancel = button("Jeszcze nie", () => {
    confirming.on = false
    confirming.redraw()
  })
  return section(
    "approval",
    "Zatwierdzenie protokołu",
    el("p", {}, "Po zatwierdzeniu nikt nie zmieni już obecności, protokołu ani ustaleń tego spotkania."),
    el("div", { class: "row" }, approve, cancel),
  )
}

function decisions(context: AppContext, team: Team, id: string, view: MeetingView, frozen: boolean, draft: { text: string }): HTMLElement {
  const list = Object.entries(view.decisions).sort(([, a], [, b]) => a.at.getTime() - b.at.getTime())
  const items = el(
    "ol",
    { "data-testid": "decisions" },
    ...list.map(([key, d]) => el("li", { "data-decision": key }, d.text, el("div", { class: "muted" }, `${d.by}, ${when(d.at)}`))),
  )
  if (frozen || !team.writes) return section("decisions", "Ustalenia", items)
  const text = el("textarea", { rows: "2", "data-bind": "decision-new", "data-testid": "decision-text" }) as HTMLTextAreaElement
  text.value = draft.text
  text.addEventListener("input", () => (draft.text = text.value))
  const record = button("Zapisz ustalenie", () => {
    const written = text.value.trim()
    if (!written) throw new Error("Wpisz treść ustalenia.")
    commitAs(context, team.handle, (d, by, at) => M.Meetings.recordDecision(d, id, M.newId("ustalenie"), written, by, at))
    draft.text = ""
    text.value = ""
  }, { "data-testid": "decision-save" })
  return section("decisions", "Ustalenia", items, text, record)
}

function presenceList(context: AppContext, team: Team, id: string, peers: PresentPeer[]): HTMLElement[] {
  const names = new Map(memberInstitutions(team.handle.doc() ?? {}).map(i => [i.id, i.name]))
  const me = context.me
  const here = [{ login: me.login, name: me.name, institution: me.institution ?? "", focus: undefined, self: true }]
  for (const p of peers) {
    if (p.meeting !== id || !p.member || p.member.login === me.login) continue
    if (here.some(h => h.login === p.member?.login)) continue
    here.push({ ...p.member, focus: p.focus, self: false } as (typeof here)[number])
  }
  return here.map(h =>
    el(
      "li",
      { "data-login": h.login, ...(h.self ? { "data-self": "" } : {}) },
      el("strong", {}, h.name, h.self ? " (Ty)" : ""),
      el("span", { class: "muted" }, ` — ${names.get(h.institution) ?? h.institution}`),
    ),
  )
}

export function showMeeting(host: HTMLElement, context: AppContext, team: Team, id: string): TabDispose {
  const body = el("div", { class: "meeting-body" })
  const presence = el("ul", { class: "presence", "data-testid": "presence" })
  const confirming = { on: false, redraw: () => draw() }
  const draft = { text: "" }
  const article = el(
    "article",
    { class: "pzk-meeting", "data-testid": "meeting", "data-meeting": id },
    el("div", { class: "row no-print" }, el("a", { href: meetingHref(team) }, "← Spotkania"), el("a", { href: meetingHref(team, id, "druk"), "data-testid": "print-link" }, "Protokół i lista obecności do druku")),
    section("presence", "Połączeni teraz", presence),
    body,
  )
  host.replaceChildren(article)
  function draw(): void {
    const doc = team.handle.doc()
    let view: MeetingView
    try {
      if (!doc) throw new Error("Dokumentu zespołu nie ma na tym urządzeniu.")
      view = M.Meetings.readMeeting(doc, id)
    } catch (error) {
      body.replaceChildren(el("p", { class: "refusal", role: "alert", "data-testid": "meeting-error" }, error instanceof Error ? error.message : String(error)))
      return
    }
    const frozen = view.minutesApproved !== null
    article.toggleAttribute("data-frozen", frozen)
    const minutes = textField({
      bind: "minutes",
      value: view.minutes,
      readOnly: frozen || !team.writes,
      rows: 10,
      placeholder: "Protokół piszą wszyscy obecni naraz.",
      write: text => {
        try {
          commitAs(context, team.handle, (d, by, at) => M.Meetings.setMinutes(d, id, text, by, at))
        } catch (error) {
          reportError(minutes, error)
        }
      },
    })
    rerender(
      body,
      plan(team, view),
      section("attendance", "Obecność", attendanceTable(context, team, id, view, frozen)),
      section("minutes", "Protokół", minutes),
      decisions(context, team, id, view, frozen, draft),
      approval(context, team, id, view, confirming),
    )
  }
  draw()
  team.handle.on("change", draw)
  // Opening the meeting clears it from "Nowe", and its approved minutes if they were approved
  // before it was opened (an approval seen live stays new until opened).
  const opened = [`meeting:${team.documentId}:${id}`]
  if (article.hasAttribute("data-frozen")) opened.push(`minutes:${team.documentId}:${id}`)
  void markSeenIfNew(context, opened).catch(() => undefined)
  const me = context.me
  const live = new MeetingPresence(
    team.handle as never,
    { login: me.login, name: me.name, institution: me.institution ?? "" },
    peers => presence.replaceChildren(...presenceList(context, team, id, peers)),
    id,
  )
  presence.replaceChildren(...presenceList(context, team, id, []))
  const focusIn = (event: FocusEvent) => {
    const target = event.target as HTMLElement
    const part = target.closest<HTMLElement>("[data-section]")?.dataset.section
    if (part) live.focus(part, target.matches("textarea, input, select"))
  }
  article.addEventListener("focusin", focusIn)
  return () => {
    team.handle.off("change", draw)
    live.stop()
  }
}
