// Notices: plain information for the worker (not errors), each kind shown once at a time.

import { el } from "../ui"

/** Shows `message` in the page's notice area, replacing an earlier notice of the same `kind`. */
export function showNotice(message: string, kind: string): void {
  const box = document.getElementById("notice")
  if (!box) return
  box.querySelector(`[data-kind="${kind}"]`)?.remove()
  box.append(el("p", { "data-kind": kind, "data-testid": `notice-${kind}` }, message))
  box.hidden = false
}
