// The meeting view: agenda, who is present, live minutes, attendance, decisions, services.

import { getCursor, getCursorPosition, type DocHandle, type DocHandleChangePayload } from "@automerge/automerge-repo/slim"

import {
  ATTENDANCE,
  MEETING_MODE,
  MeetingEditor,
  sectorLabel,
  agendaItems,
  attendanceValues,
  str,
  type Author,
  type PzkDoc,
} from "./pzk"
import { MeetingPresence, type MemberState, type PresentPeer } from "./presence"
import { el, showError } from "./ui"

/** Polish names of the sections a member can be working in. */
const SECTION: Record<string, string> = {
  agenda: "porządek",
  presence: "obecni",
  minutes: "protokół",
  attendance: "obecność",
  decisions: "ustalenia",
  services: "usługi",
}

const WHEN = new Intl.DateTimeFormat("pl-PL", {
  dateStyle: "full",
  timeStyle: "short",
  timeZone: "Europe/Warsaw",
})

function byId<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id)
  if (!found) throw new Error(`the page has no #${id}`)
  return found as T
}

/** What the meeting view needs to start. */
export interface MeetingContext {
  handle: DocHandle<PzkDoc>
  meetingId: string
  member: MemberState
  canEdit: boolean
}

/** Shows one meeting of a PZK document and keeps it live. */
export class MeetingView {
  readonly #handle: DocHandle<PzkDoc>
  readonly #meetingId: string
  readonly #editor: MeetingEditor
  readonly #presence: MeetingPresence
  readonly #member: MemberState
  readonly #minutes = byId<HTMLTextAreaElement>("minutes")
  #attendanceKeys = ""

  constructor(context: MeetingContext) {
    this.#handle = context.handle
    this.#meetingId = context.meetingId
    this.#member = context.member
    const author: Author = { login: context.member.login, institution: context.member.institution }
    this.#editor = new MeetingEditor(context.handle, context.meetingId, author)
    this.#presence = new MeetingPresence(context.handle as DocHandle<unknown>, context.member, peers =>
      this.#renderPresence(peers),
    )
    this.#wireInputs(context.canEdit)
    this.#handle.on("change", payload => this.#changed(payload))
    this.#render()
    this.#renderPresence([])
    byId("meeting-view").hidden = false
  }

  #doc(): PzkDoc {
    const doc = this.#handle.doc()
    if (!doc?.meetings?.[this.#meetingId]) throw new Error("this meeting is not in the document")
    return doc
  }

  #wireInputs(canEdit: boolean): void {
    const view = byId("meeting-view")
    view.addEventListener("focusin", event => {
      const target = event.target as HTMLElement
      const section = target.closest<HTMLElement>("[data-section]")?.dataset.section
      if (!section) return
      const editing = target.matches("textarea, input, select")
      this.#presence.focus(section, editing)
    })
    view.addEventListener("focusout", event => {
      const target = event.target as HTMLElement
      const section = target.closest<HTMLElement>("[data-section]")?.dataset.section
      if (section && !view.contains(event.relatedTarget as Node | null)) {
        this.#presence.focus(section, false)
      }
    })
    this.#minutes.readOnly = !canEdit
    this.#minutes.addEventListener("input", () => this.#guard(() => this.#editor.setMinutes(this.#minutes.value)))
    const form = byId<HTMLFormElement>("decision-form")
    form.hidden = !canEdit
    form.addEventListener("submit", event => {
      event.preventDefault()
      const text = byId<HTMLTextAreaElement>("decision-text")
      if (!text.value.trim()) return
      this.#guard(() => this.#editor.recordDecision(text.value.trim()))
      text.value = ""
    })
    byId("attendance").addEventListener("change", event => {
      const select = event.target as HTMLSelectElement
      const person = select.dataset.person
      if (person) this.#guard(() => this.#editor.recordAttendance(person, select.value))
    })
    byId("attendance").toggleAttribute("data-readonly", !canEdit)
    this.#canEdit = canEdit
  }

  #canEdit = false

  #guard(edit: () => unknown): void {
    try {
      edit()
    } catch (error) {
      showError(`Nie zapisano zmiany: ${(error as Error).message}`)
    }
  }

  #changed(payload: DocHandleChangePayload<PzkDoc>): void {
    this.#syncMinutes(payload)
    this.#render()
  }

  /** Puts remote edits of the minutes into the textarea, keeping the caret where it was. */
  #syncMinutes(payload: DocHandleChangePayload<PzkDoc>): void {
    const text = payload.doc.meetings?.[this.#meetingId]?.minutes ?? ""
    if (this.#minutes.value === text) return
    const path = ["meetings", this.#meetingId, "minutes"]
    const { selectionStart, selectionEnd } = this.#minutes
    const focused = document.activeElement === this.#minutes
    let start = selectionStart
    let end = selectionEnd
    try {
      const before = payload.patchInfo.before
      start = getCursorPosition(payload.doc, path, getCursor(before, path, selectionStart))
      end = getCursorPosition(payload.doc, path, getCursor(before, path, selectionEnd))
    } catch {
      // A caret past the old text: leave it where the browser puts it.
    }
    this.#minutes.value = text
    if (focused) this.#minutes.setSelectionRange(start, end)
  }

  #render(): void {
    const doc = this.#doc()
    const meeting = doc.meetings[this.#meetingId]
    byId("meeting-title").textContent = `${str(doc.name)}: spotkanie ${this.#meetingId}`
    byId("meeting-info").textContent =
      `${WHEN.format(meeting.date)} · ${MEETING_MODE[str(meeting.mode)] ?? str(meeting.mode)}`
    byId("agenda").replaceChildren(
      ...agendaItems(meeting).map(([id, item]) => el("li", { "data-item": id }, str(item.title))),
    )
    if (this.#minutes.value !== meeting.minutes && document.activeElement !== this.#minutes) {
      this.#minutes.value = meeting.minutes
    }
    this.#renderAttendance(doc)
    this.#renderDecisions(doc)
    this.#renderServices(doc)
  }

  /** The people of the meeting: representatives of the member institutions, and anyone else whose attendance is recorded. */
  #people(doc: PzkDoc): Array<{ person: string; name: string; institution: string }> {
    const people = new Map<string, { person: string; name: string; institution: string }>()
    for (const [institution, member] of Object.entries(doc.members ?? {})) {
      for (const [person, rep] of Object.entries(member.representatives ?? {})) {
        people.set(person, { person, name: str(rep.name), institution: str(member.name) || institution })
      }
    }
    for (const person of Object.keys(doc.meetings[this.#meetingId].attendance ?? {})) {
      if (!people.has(person)) people.set(person, { person, name: person, institution: "" })
    }
    return [...people.values()].sort((a, b) => a.name.localeCompare(b.name, "pl"))
  }

  #renderAttendance(doc: PzkDoc): void {
    const table = byId<HTMLTableElement>("attendance")
    const people = this.#people(doc)
    const keys = people.map(p => p.person).join("\n")
    if (keys !== this.#attendanceKeys) {
      this.#attendanceKeys = keys
      table.replaceChildren(
        ...people.map(p => {
          const select = el(
            "select",
            { "data-person": p.person, "aria-label": `obecność: ${p.name}` },
            el("option", { value: "" }, "—"),
            ...ATTENDANCE.map(([value, label]) => el("option", { value }, label)),
          ) as HTMLSelectElement
          select.disabled = !this.#canEdit
          return el(
            "tr",
            { "data-person": p.person },
            el("td", {}, p.name, el("div", { class: "muted" }, p.institution)),
            el("td", {}, select, el("div", { class: "conflict" })),
          )
        }),
      )
    }
    for (const row of table.querySelectorAll<HTMLTableRowElement>("tr[data-person]")) {
      const person = row.dataset.person ?? ""
      const values = person in (doc.meetings[this.#meetingId].attendance ?? {})
        ? attendanceValues(doc, this.#meetingId, person)
        : [""]
      const select = row.querySelector("select")
      if (select && document.activeElement !== select) select.value = values[0]
      row.dataset.attendance = values[0]
      const conflict = row.querySelector(".conflict")
      if (conflict) {
        conflict.textContent = values.length > 1
          ? `Zapisano naraz: ${values.map(v => ATTENDANCE.find(([a]) => a === v)?.[1] ?? v).join(" / ")} — wybierz jedno`
          : ""
      }
    }
  }

  #renderDecisions(doc: PzkDoc): void {
    const decisions = Object.entries(doc.meetings[this.#meetingId].decisions ?? {}).sort(
      ([, a], [, b]) => a.at.getTime() - b.at.getTime(),
    )
    byId("decisions").replaceChildren(
      ...decisions.map(([id, d]) =>
        el("li", { "data-decision": id }, d.text, el("div", { class: "muted" }, `${str(d.by)}, ${WHEN.format(d.at)}`)),
      ),
    )
  }

  #renderServices(doc: PzkDoc): void {
    const header = el("tr", {}, ...["Usługa", "Realizator", "Sektor", "Miejsca", "Zdalnie"].map(h => el("th", {}, h)))
    const rows = Object.entries(doc.services ?? {}).map(([id, s]) => {
      const provider = doc.members?.[str(s.provider)]
      return el(
        "tr",
        { "data-service": id, class: s.retired ? "retired" : "" },
        el("td", {}, s.description, s.retired ? " (wycofana)" : ""),
        el("td", {}, provider ? str(provider.name) : str(s.provider)),
        el("td", {}, sectorLabel(str(s.sector))),
        el("td", {}, s.capacity === undefined ? "—" : String(s.capacity)),
        el("td", {}, s.remoteCapable ? "tak" : "nie"),
      )
    })
    byId("services").replaceChildren(header, ...rows)
  }

  #institutionName(id: string): string {
    const member = this.#handle.doc()?.members?.[id]
    return member ? str(member.name) : id
  }

  #renderPresence(peers: PresentPeer[]): void {
    const me: PresentPeer = { peerId: "self" as PresentPeer["peerId"], member: this.#member }
    const items = [me, ...peers].map(peer => {
      const member = peer.member
      const focus = peer.focus
      const attrs: Record<string, string> = {
        "data-peer": peer.peerId,
        "data-login": member?.login ?? "",
        "data-focus": focus?.section ?? "",
        "data-editing": String(focus?.editing ?? false),
      }
      if (peer === me) attrs["data-self"] = ""
      const where = focus ? `${SECTION[focus.section] ?? focus.section}${focus.editing ? " (pisze)" : ""}` : ""
      return el(
        "li",
        attrs,
        el("strong", {}, member?.name ?? "(nieznany)", peer === me ? " (Ty)" : ""),
        el("span", { class: "muted" }, ` — ${member ? this.#institutionName(member.institution) : ""}`),
        where ? el("span", { class: "focus" }, ` · ${where}`) : "",
      )
    })
    byId("presence").replaceChildren(...items)
  }
}
