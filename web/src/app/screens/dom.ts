// Small pieces every screen builds with: buttons, labelled fields, sections, and a re-render
// that keeps the field the worker is typing in (its node, value and cursor) untouched.

import { el } from "../../ui"

export { el }

/** A button that runs `action`; a thrown error is shown by `onError`. */
export function button(
  label: string,
  action: () => void | Promise<void>,
  attrs: Record<string, string> = {},
): HTMLButtonElement {
  const b = el("button", { type: "button", ...attrs }, label) as HTMLButtonElement
  b.addEventListener("click", () => {
    Promise.resolve()
      .then(action)
      .catch(error => reportError(b, error))
  })
  return b
}

/** A labelled control. */
export function field(label: string, control: HTMLElement, hint = ""): HTMLElement {
  const children: Array<Node | string> = [el("span", { class: "label" }, label), control]
  if (hint) children.push(el("span", { class: "muted" }, hint))
  return el("label", { class: "field" }, ...children)
}

/** A text input (single line). */
export function input(attrs: Record<string, string> = {}, value = ""): HTMLInputElement {
  const i = el("input", attrs) as HTMLInputElement
  i.value = value
  return i
}

/** A select with `[value, label]` options and the current value chosen. */
export function select(
  options: ReadonlyArray<readonly [string, string]>,
  value: string,
  attrs: Record<string, string> = {},
): HTMLSelectElement {
  const s = el("select", attrs) as HTMLSelectElement
  for (const [v, label] of options) s.append(el("option", { value: v }, label))
  s.value = value
  return s
}

/** A card-like section with a heading. */
export function section(name: string, title: string, ...children: Array<Node | string>): HTMLElement {
  return el("section", { class: "card", "data-section": name }, el("h3", {}, title), ...children)
}

/**
 * Replaces `target`'s children with `fresh`, except the element being edited: an element with
 * `data-bind` that has focus inside `target` is put into the new tree in place of its twin
 * (same `data-bind`), keeping what was typed, and gets its focus, selection and scroll back
 * (moving a node in the DOM takes its focus away) and its twin's `readOnly` and `disabled`.
 */
export function rerender(target: HTMLElement, ...fresh: Array<Node | string>): void {
  const holder = document.createElement("div")
  holder.append(...fresh)
  // Nothing changed: the nodes stay, so a tap under way or a field's state is not disturbed.
  if (target.firstChild && signature(holder) === signature(target)) return
  const active = document.activeElement as HTMLElement | null
  const key = active && target.contains(active) ? active.dataset.bind : undefined
  const twin = key ? holder.querySelector<HTMLElement>(`[data-bind="${CSS.escape(key)}"]`) : null
  if (!active || !twin) {
    target.replaceChildren(...holder.childNodes)
    return
  }
  const edited = active as HTMLTextAreaElement
  const text = "value" in edited && typeof edited.setSelectionRange === "function"
  const start = text ? edited.selectionStart : null
  const end = text ? edited.selectionEnd : null
  const scroll = edited.scrollTop
  const wanted = (twin as HTMLTextAreaElement).value
  // The kept node takes on whether it may still be edited (a meeting frozen, a case closed
  // while someone types in it).
  if ("readOnly" in twin && "readOnly" in edited) edited.readOnly = (twin as HTMLTextAreaElement).readOnly
  if ("disabled" in twin && "disabled" in edited) edited.disabled = (twin as HTMLTextAreaElement).disabled
  twin.replaceWith(active)
  target.replaceChildren(...holder.childNodes)
  active.focus({ preventScroll: true })
  edited.scrollTop = scroll
  if (text && start !== null && end !== null) {
    edited.setSelectionRange(start, end)
    if (typeof wanted === "string" && edited.value !== wanted) keepCursor(edited, wanted)
  }
}

/** What a tree shows: its markup and the values of its fields (which the markup does not hold). */
function signature(root: HTMLElement): string {
  const values = [...root.querySelectorAll<HTMLInputElement>("textarea, input, select")].map(f => f.value)
  return `${root.innerHTML}\u0000${values.join("\u0000")}`
}

/** Sets a text field's value, keeping the cursor where it was relative to the text around it. */
export function keepCursor(control: HTMLTextAreaElement | HTMLInputElement, value: string): void {
  const old = control.value
  const start = control.selectionStart ?? old.length
  const end = control.selectionEnd ?? start
  // Characters before the cursor that stayed the same keep the cursor where it is; an edit
  // before the cursor shifts it by the change in length.
  let prefix = 0
  while (prefix < old.length && prefix < value.length && old[prefix] === value[prefix]) prefix++
  const shift = value.length - old.length
  const move = (at: number) => (at <= prefix ? at : Math.max(prefix, at + shift))
  control.value = value
  control.setSelectionRange(move(start), move(end))
}

/** Shows an error beside the control that caused it (and in the page's error box). */
export function reportError(near: HTMLElement, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error)
  console.warn(`odmowa: ${message}`)
  const box = near.closest("[data-section]") ?? near.parentElement
  const shown = el("p", { class: "refusal", role: "alert", "data-testid": "refusal" }, message)
  box?.querySelector(":scope > .refusal")?.remove()
  box?.append(shown)
}

// Built once: `toLocaleString` with options builds a formatter at every call, which a card
// redrawn per keystroke (its history and notes) and a caseload of 200 cases paid for dearly.
const ISO_DAY = new Intl.DateTimeFormat("sv-SE", { timeZone: "Europe/Warsaw" })
const WHEN = new Intl.DateTimeFormat("pl-PL", { timeZone: "Europe/Warsaw", dateStyle: "short", timeStyle: "short" })
const DAY = new Intl.DateTimeFormat("pl-PL", { timeZone: "Europe/Warsaw" })

/** `YYYY-MM-DD` of a date in Warsaw. */
export function isoDay(date: Date): string {
  return ISO_DAY.format(date)
}

/** A date and time in Polish, in Warsaw's time. */
export function when(date: Date | undefined | null): string {
  if (!date) return ""
  return WHEN.format(date)
}

/** A date in Polish. */
export function day(date: Date | string | undefined | null): string {
  if (!date) return ""
  const d = typeof date === "string" ? new Date(`${date}T12:00:00Z`) : date
  return DAY.format(d)
}
