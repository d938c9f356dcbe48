// Sharing the case with a colleague or an institution (the server's assign/unassign API; it
// needs the network, and sharing with an institution follows a recorded consent).

import type { AccessTokens } from "../../api"
import { button, el, field, input, section, select } from "./dom"
import { changeSharing, type Sharing } from "./sharing-api"

export function sharing(documentId: string, tokens: AccessTokens): HTMLElement {
  const kind = select(
    [
      ["user", "współpracownik (login)"],
      ["institution", "instytucja (identyfikator)"],
    ],
    "user",
    { "data-testid": "share-kind" },
  )
  const who = input({ "data-testid": "share-who", "data-bind": "share/who" })
  const result = el("p", { class: "muted", "data-testid": "share-result", "aria-live": "polite" })
  const change = (remove: boolean) => async () => {
    const name = who.value.trim()
    if (!name) throw new Error("Podaj login współpracownika albo identyfikator instytucji.")
    const assignee = kind.value === "user" ? { user: name } : { institution: name }
    const shared: Sharing = await changeSharing(tokens, documentId, assignee, remove)
    const users = shared.assigned_users.join(", ") || "nikt"
    const institutions = shared.assigned_institutions.join(", ") || "żadna"
    result.textContent = `Udostępniono: osoby — ${users}; instytucje — ${institutions}.`
  }
  return section(
    "sharing",
    "Udostępnianie",
    el("div", { class: "row" }, field("Komu", kind), field("Kto", who)),
    el(
      "div",
      { class: "row" },
      button("Udostępnij", change(false), { "data-testid": "share" }),
      button("Odbierz dostęp", change(true), { "data-testid": "unshare" }),
    ),
    result,
  )
}
