// "Usługi": the list of activities and services (6.3) that cases draw their basket from. The
// team's editors add an entry, change it, and retire it when it is no longer offered; a retired
// entry stays listed (cases refer to its id) and is marked so.

import * as M from "../../../model"
import type { AppContext } from "../../context"
import { button, el, field, input, section, select } from "../../screens/dom"
import type { TabDispose } from "../tabs"
import type { Team } from "../team-model"
import { change, edits, labelOf, livePart, newId, optionsOf, readOnlyReason, type PzkView } from "./part"

const P = M.Pzk

/** The entry being edited in the form, per team (null: a new one). */
const editing = new Map<string, string | null>()

function serviceRow(context: AppContext, team: Team, view: PzkView, id: string, s: M.Pzk.ServiceEntryView, redraw: () => void): HTMLElement {
  const provider = view.members[s.provider]?.name ?? s.provider
  const facts = [labelOf("sector", s.sector), s.capacity !== null ? `miejsc: ${s.capacity}` : "bez limitu miejsc", s.remoteCapable ? "także zdalnie" : ""]
  return el(
    "li",
    { class: "case-row", "data-service": id, "data-retired": String(s.retired) },
    el("div", { class: "case-main" }, el("strong", { "data-testid": "service-description" }, s.description), s.retired ? el("span", { class: "stage-chip", "data-testid": "service-retired" }, "wycofana") : ""),
    el("div", { class: "muted" }, `${provider} · ${facts.filter(Boolean).join(" · ")}`),
    edits(team) && !s.retired
      ? el(
          "div",
          { class: "row" },
          button("Edytuj", () => { editing.set(team.documentId, id); redraw() }, { class: "link", "data-testid": "edit-service" }),
          button("Wycofaj", () => change(context, team, (doc, by, at) => P.retireService(doc, id, by, at)), { class: "link", "data-testid": "retire-service" }),
        )
      : "",
  )
}

function serviceForm(context: AppContext, team: Team, view: PzkView, redraw: () => void): HTMLElement {
  const id = editing.get(team.documentId) ?? null
  const current = id === null ? undefined : view.services[id]
  const providers = Object.entries(view.members).map(([m, member]) => [m, member.name] as const)
  const description = el("textarea", { rows: "2", "data-testid": "service-description-input", "data-bind": "service/description" }) as HTMLTextAreaElement
  description.value = current?.description ?? ""
  const provider = select(providers, current?.provider ?? providers[0]?.[0] ?? "", { "data-testid": "service-provider", "data-bind": "service/provider" })
  const sector = select(optionsOf("sector", P.SECTORS), current?.sector ?? view.members[provider.value]?.sector ?? "other", { "data-testid": "service-sector", "data-bind": "service/sector" })
  provider.addEventListener("change", () => (sector.value = view.members[provider.value]?.sector ?? sector.value))
  const capacity = input({ type: "number", min: "0", "data-testid": "service-capacity", "data-bind": "service/capacity", placeholder: "bez limitu" }, current?.capacity?.toString() ?? "")
  const remote = el("input", { type: "checkbox", "data-testid": "service-remote", "data-bind": "service/remote" }) as HTMLInputElement
  remote.checked = current?.remoteCapable ?? false
  const save = button(id === null ? "Dodaj usługę" : "Zapisz zmiany", () => {
    if (!description.value.trim()) throw new Error("Opisz usługę.")
    if (!provider.value) throw new Error("Najpierw dodaj do zespołu instytucję, która ją świadczy.")
    const entry = {
      description: description.value.trim(),
      provider: provider.value,
      sector: sector.value as M.Pzk.InstitutionSector,
      capacity: capacity.value === "" ? null : Number(capacity.value),
      remoteCapable: remote.checked,
    }
    change(context, team, (doc, by, at) => P.upsertService(doc, id ?? newId("usl"), entry, by, at))
    editing.set(team.documentId, null)
    redraw()
  }, { "data-testid": "save-service" })
  const cancel = id === null ? "" : button("Anuluj", () => { editing.set(team.documentId, null); redraw() }, { class: "link", "data-testid": "cancel-service" })
  return el(
    "div",
    { class: "card", "data-testid": "service-form", "data-editing": id ?? "" },
    el("h4", {}, id === null ? "Nowa usługa" : "Zmiana usługi"),
    field("Opis", description),
    el("div", { class: "row" }, field("Świadczy", provider), field("Sektor", sector), field("Liczba miejsc", capacity), el("label", { class: "field" }, remote, " można zdalnie")),
    el("div", { class: "row" }, save, cancel),
  )
}

export function showServices(host: HTMLElement, context: AppContext, team: Team, _rest: string[]): TabDispose {
  let dispose: TabDispose = () => undefined
  const draw = (view: PzkView) => {
    const redraw = () => { dispose(); dispose = showServices(host, context, team, []) }
    const rows = Object.entries(view.services)
      .sort(([, a], [, b]) => Number(a.retired) - Number(b.retired))
      .map(([id, s]) => serviceRow(context, team, view, id, s, redraw))
    return [
      readOnlyReason(team, "services"),
      section(
        "services",
        "Lista aktywności i usług",
        rows.length ? el("ul", { class: "caseload", "data-testid": "service-list" }, ...rows) : el("p", { class: "muted" }, "Lista jest pusta."),
        edits(team) ? serviceForm(context, team, view, redraw) : "",
      ),
    ]
  }
  dispose = livePart(host, team, draw)
  return () => dispose()
}
