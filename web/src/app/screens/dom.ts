// Small pieces every screen builds with: buttons, labelled fields, sections, and a re-render
// that keeps the field the worker is typing in (its node, value and cursor) untouched.

import { el } from "../../ui"

export { el }

/**
 * A button that runs `action`; a thrown error is shown beside it. The drafts it submits (what
 * was typed into the fields of its form, see `rerender`) go back to what they were drawn with
 * once the action succeeded; a refused action leaves them as typed.
 */
export function button(
  label: string,
  action: () => void | Promise<void>,
  attrs: Record<string, string> = {},
): HTMLButtonElement {
  const b = el("button", { type: "button", ...attrs }, label) as HTMLButtonElement
  b.addEventListener("click", () => {
    const submitted = draftKeysNear(b)
    Promise.resolve()
      .then(action)
      .then(() => resetDrafts(submitted))
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
 * Drafts are carried too: what was typed into a field that is not the document's own (a new
 * note, a signer's name, a form not yet sent) goes into its twin (same `data-bind`, else same
 * `data-testid`), so that a change arriving from elsewhere does not empty the form.
 */
export function rerender(target: HTMLElement, ...fresh: Array<Node | string>): void {
  const holder = document.createElement("div")
  holder.append(...fresh)
  // Nothing changed: the nodes stay, so a tap under way or a field's state is not disturbed.
  if (target.firstChild && signature(holder) === signature(target)) return
  const active = document.activeElement as HTMLElement | null
  const key = active && target.contains(active) ? active.dataset.bind : undefined
  const twin = key ? holder.querySelector<HTMLElement>(`[data-bind="${CSS.escape(key)}"]`) : null
  carryDrafts(target, holder, twin ? active : null)
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

// ---- drafts: fields the worker typed into that are not bound to the document as it is typed

type Control = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement

/** Text fields, selects and the like; not checkboxes and radios. */
const CONTROLS = "textarea, select, input:not([type=checkbox]):not([type=radio]):not([type=hidden])"

/** A field's key among its twins: its `data-bind`, else its `data-testid`. */
function draftKey(field: Control): string | undefined {
  return field.dataset.bind ?? field.dataset.testid
}

/** A field not written to the document as it is typed (those are `textField`s: `data-live`). */
function isDraft(field: Control): boolean {
  return field.dataset.live === undefined && draftKey(field) !== undefined
}

/** Whether the worker changed a draft since it was drawn (`rerender` notes what it drew). */
function typedInto(field: Control): boolean {
  return field.dataset.drawn !== undefined && field.value !== field.dataset.drawn
}

/**
 * Notes what `fresh`'s drafts are drawn with, then puts what was typed into `old`'s drafts into
 * their twins in `fresh` (except `kept`'s, which moves into the new tree itself).
 */
function carryDrafts(old: HTMLElement, fresh: HTMLElement, kept: HTMLElement | null): void {
  for (const field of fresh.querySelectorAll<Control>(CONTROLS)) {
    if (isDraft(field)) field.dataset.drawn = field.value
  }
  for (const field of old.querySelectorAll<Control>(CONTROLS)) {
    if (field === kept || !isDraft(field) || !typedInto(field)) continue
    const key = draftKey(field) ?? ""
    const attr = field.dataset.bind !== undefined ? "data-bind" : "data-testid"
    const twin = fresh.querySelector<Control>(`[${attr}="${CSS.escape(key)}"]`)
    if (!twin || !isDraft(twin) || twin.tagName !== field.tagName || twin.disabled || ("readOnly" in twin && twin.readOnly)) continue
    twin.value = field.value
  }
}

/** The keys of the drafts typed into in the form around `button` (the smallest one holding any). */
function draftKeysNear(button: HTMLElement): string[] {
  for (let box = button.parentElement; box; box = box.parentElement) {
    const typed = [...box.querySelectorAll<Control>(CONTROLS)].filter(f => isDraft(f) && typedInto(f))
    if (typed.length > 0) return typed.map(f => draftKey(f) ?? "")
    if (box.dataset.section !== undefined) break
  }
  return []
}

/** Drafts that were sent go back to what they were drawn with, wherever they are now. */
function resetDrafts(keys: string[]): void {
  for (const key of keys) {
    const escaped = CSS.escape(key)
    for (const field of document.querySelectorAll<Control>(`[data-bind="${escaped}"], [data-testid="${escaped}"]`)) {
      if (isDraft(field) && field.dataset.drawn !== undefined) field.value = field.dataset.drawn
    }
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
