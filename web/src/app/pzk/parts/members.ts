// "Zespół": the member institutions with their sector, role and representatives, and the
// leader person or family (5.3), named as the team knows them without being made a user. The
// team's editors add and change institutions and representatives; everyone else reads.

import * as M from "../../../model"
import type { AppContext } from "../../context"
import { button, el, field, input, section, select } from "../../screens/dom"
import type { TabDispose } from "../tabs"
import type { Team } from "../team-model"
import { change, edits, labelOf, livePart, newId, optionsOf, readOnlyReason, type PzkView } from "./part"

const P = M.Pzk

function representativeForm(context: AppContext, team: Team, institution: string): HTMLElement {
  const name = input({ "data-testid": "rep-name", "data-bind": `rep/${institution}/name`, placeholder: "Imię i nazwisko" })
  const fn = input({ "data-testid": "rep-function", "data-bind": `rep/${institution}/function`, placeholder: "np. pedagog szkolny" })
  const add = button("Dodaj przedstawiciela", () => {
    const representative = { name: name.value.trim(), function: fn.value.trim() }
    if (!representative.name) throw new Error("Podaj imię i nazwisko przedstawiciela.")
    change(context, team, (doc, by, at) => P.setRepresentative(doc, institution, newId("os"), representative, by, at))
  }, { "data-testid": "add-representative" })
  return el("div", { class: "row", "data-testid": "rep-form" }, name, fn, add)
}

function memberRow(context: AppContext, team: Team, id: string, member: M.Pzk.MemberView): HTMLElement {
  const reps = Object.entries(member.representatives).map(([person, r]) =>
    el(
      "li",
      { "data-person": person },
      `${r.name}${r.function ? ` — ${r.function}` : ""} `,
      edits(team)
        ? button("Usuń", () => change(context, team, (doc, by, at) => P.removeRepresentative(doc, id, person, by, at)), { class: "link" })
        : "",
    ),
  )
  return el(
    "li",
    { class: "case-row", "data-member": id },
    el("div", { class: "case-main" }, el("strong", {}, member.name), el("span", { class: "stage-chip" }, labelOf("role", member.role))),
    el("div", { class: "muted" }, `${labelOf("sector", member.sector)} · identyfikator: ${id}`),
    reps.length ? el("ul", { "data-testid": "representatives" }, ...reps) : el("p", { class: "muted" }, "Bez przedstawicieli."),
    edits(team) ? representativeForm(context, team, id) : "",
  )
}

function memberForm(context: AppContext, team: Team): HTMLElement {
  const id = input({ "data-testid": "member-id", "data-bind": "member/id", placeholder: "np. szkola" })
  const name = input({ "data-testid": "member-name", "data-bind": "member/name", placeholder: "np. Szkoła Podstawowa nr 1" })
  const sector = select(optionsOf("sector", P.SECTORS), "education", { "data-testid": "member-sector", "data-bind": "member/sector" })
  const role = select(optionsOf("role", P.MEMBER_ROLES), "member", { "data-testid": "member-role", "data-bind": "member/role" })
  const save = button("Zapisz instytucję", () => {
    const member = { name: name.value.trim(), sector: sector.value as M.Pzk.InstitutionSector, role: role.value as M.Pzk.MemberRole }
    if (!member.name) throw new Error("Podaj nazwę instytucji.")
    change(context, team, (doc, by, at) => P.upsertMember(doc, id.value.trim(), member, by, at))
  }, { "data-testid": "save-member" })
  return el(
    "div",
    { class: "card", "data-testid": "member-form" },
    el("h4", {}, "Dodaj lub zmień instytucję członkowską"),
    el("div", { class: "row" }, field("Identyfikator (jak na serwerze)", id), field("Nazwa", name)),
    el("div", { class: "row" }, field("Sektor", sector), field("Rola w zespole", role)),
    save,
  )
}

function leaderSection(context: AppContext, team: Team, view: PzkView): HTMLElement {
  const shown = view.leader
    ? el("p", { "data-testid": "leader" }, el("strong", {}, view.leader.label), view.leader.note ? ` — ${view.leader.note}` : "")
    : el("p", { class: "muted", "data-testid": "leader-none" }, "Zespół nie wskazał osoby ani rodziny liderskiej.")
  const body = section("leader", "Osoba lub rodzina liderska (5.3)", shown)
  body.append(el("p", { class: "muted" }, "Lider nie jest użytkownikiem aplikacji: zespół nazywa go tak, jak go zna, bez adresu ani danych o zdrowiu."))
  if (!edits(team)) return body
  const label = input({ "data-testid": "leader-label", "data-bind": "leader/label", placeholder: "np. Rodzina liderska z Przykładowa" }, view.leader?.label ?? "")
  const note = input({ "data-testid": "leader-note", "data-bind": "leader/note", placeholder: "co wnosi do zespołu" }, view.leader?.note ?? "")
  body.append(
    el("div", { class: "row" }, field("Jak zespół ich nazywa", label), field("Uwagi", note)),
    el(
      "div",
      { class: "row" },
      button("Zapisz lidera", () => change(context, team, (doc, by, at) => P.setLeader(doc, { label: label.value, note: note.value }, by, at)), {
        "data-testid": "save-leader",
      }),
      view.leader ? button("Usuń lidera", () => change(context, team, (doc, by, at) => P.clearLeader(doc, by, at)), { class: "link" }) : "",
    ),
  )
  return body
}

export function showMembers(host: HTMLElement, context: AppContext, team: Team, _rest: string[]): TabDispose {
  return livePart(host, team, view => {
    const rows = Object.entries(view.members).map(([id, m]) => memberRow(context, team, id, m))
    return [
      readOnlyReason(team, "members"),
      section(
        "members",
        "Instytucje członkowskie",
        rows.length ? el("ul", { class: "caseload", "data-testid": "member-list" }, ...rows) : el("p", { class: "muted" }, "Zespół nie ma jeszcze członków."),
        edits(team) ? memberForm(context, team) : "",
      ),
      leaderSection(context, team, view),
    ]
  })
}
