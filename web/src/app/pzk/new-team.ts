// "Nowy zespół" (`#/pzk/nowy-zespol`): an animator (or a ROPS adviser assigned to a team)
// creates the team's PZK document on this device, offline too, with the team's name and the
// first draft of its agreement; the server ties it to the team its creator runs (by name when
// they run several) and refuses it to anyone else (`refusal.not-team-animator`).

import type { Me } from "../../api"
import * as M from "../../model"
import type { AppContext } from "../context"
import { rememberCreated } from "../screens/created-here"
import { button, el, field, input } from "../screens/dom"
import { href } from "../screens/router"

/** Whether the user may create a team's document: an animator or a ROPS adviser. */
export const mayCreateTeam = (me: Me) => me.roles.includes("animator") || me.roles.includes("rops-adviser")

/** Creates a team's document on this device; returns its document id. */
export function createTeam(context: AppContext, name: string, agreementText: string): string {
  if (!name.trim()) throw new Error("Podaj nazwę zespołu (taką, jaką zespół ma na serwerze regionu).")
  const handle = M.createPzk(context.repo, { name: name.trim(), animator: context.me.login, agreementText }, new Date())
  rememberCreated(context.me.login, handle.documentId, handle.url, "pzk")
  return handle.documentId
}

export async function showNewTeam(host: HTMLElement, context: AppContext): Promise<() => void> {
  if (!mayCreateTeam(context.me)) {
    host.replaceChildren(el("p", { class: "muted" }, "Dokument zespołu zakłada jego animator lub doradca ROPS."))
    return () => undefined
  }
  const name = input({ "data-testid": "team-name-input", placeholder: "np. PZK Gminy Przykładowo" })
  const text = el("textarea", { rows: "6", "data-testid": "team-agreement-input" }) as HTMLTextAreaElement
  text.value = "Porozumienie o współpracy w ramach Partnerskiego Zespołu Kooperacji."
  const create = button("Utwórz zespół", () => {
    const id = createTeam(context, name.value, text.value)
    location.hash = href({ screen: "pzk-team", pzk: id, tab: "zespol", rest: [] })
  }, { "data-testid": "create-team" })
  host.replaceChildren(
    el("p", {}, el("a", { href: href({ screen: "pzk" }) }, "← Zespoły PZK")),
    el("h2", {}, "Nowy zespół PZK"),
    el("p", { class: "muted" }, "Dokument zespołu powstaje na tym urządzeniu i trafia na serwer przy najbliższym połączeniu."),
    field("Nazwa zespołu", name),
    field("Pierwsza wersja porozumienia", text),
    create,
  )
  return () => undefined
}
