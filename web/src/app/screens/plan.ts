// The IPP (indywidualny program pomocy): SMART goals with a deadline, the responsible
// institution and the services from the PZK list that serve them; a goal's status.

import { conflictView } from "./conflict-view"
import { day, el, field, input, section, select } from "./dom"
import type { Access, CaseData, CaseEdits, Choices } from "./port"
import { textField } from "./text-field"

const SMART: ReadonlyArray<readonly ["specific" | "measurable" | "achievable" | "relevant", string]> = [
  ["specific", "Konkretny — co dokładnie"],
  ["measurable", "Mierzalny — po czym poznamy"],
  ["achievable", "Osiągalny — dlaczego realny"],
  ["relevant", "Istotny — dlaczego ważny dla rodziny"],
]

export function plan(data: CaseData, edits: CaseEdits, choices: Choices, access: Access): HTMLElement {
  const readOnly = !access.canWrite || access.partner
  const goals = data.goals.map(goal => {
    const overdue = goal.overdue
    const item = el(
      "article",
      { class: "goal", "data-goal": goal.id, ...(overdue ? { "data-overdue": "" } : {}) },
      el(
        "h4",
        {},
        goal.specific.split("\n")[0] || "Cel",
        el("span", { class: overdue ? "late" : "muted" }, ` · termin ${day(goal.deadline)}${overdue ? " (po terminie)" : ""}`),
      ),
      el("p", { class: "muted" }, `Odpowiada: ${goal.responsible}`, goal.services.length ? ` · usługi: ${goal.services.join(", ")}` : ""),
    )
    for (const [part, label] of SMART) {
      item.append(
        field(
          label,
          textField({
            bind: `goals/${goal.id}/${part}`,
            value: goal[part],
            readOnly,
            rows: 2,
            write: text => edits.setGoalText(goal.id, part, text),
          }),
        ),
      )
    }
    if (goal.status.conflict) {
      item.append(conflictView(`goals/${goal.id}/status`, goal.status.conflict, readOnly, v => edits.setGoalStatus(goal.id, v)))
    }
    const status = select(choices.goalStatuses, goal.status.value, { "data-testid": "goal-status" })
    status.disabled = readOnly
    status.addEventListener("change", () => edits.setGoalStatus(goal.id, status.value))
    item.append(field("Status", status))
    return item
  })
  const body = section("plan", "IPP — cele SMART", ...goals)
  if (data.goals.length === 0) body.append(el("p", { class: "muted" }, "Program nie ma jeszcze celów."))
  if (!readOnly) body.append(newGoal(data, edits, choices))
  return body
}

function newGoal(data: CaseData, edits: CaseEdits, choices: Choices): HTMLElement {
  const parts = SMART.map(([part, label]) => {
    const area = el("textarea", { rows: "2", "data-testid": `goal-${part}`, "data-bind": `new-goal/${part}` }) as HTMLTextAreaElement
    return [part, label, area] as const
  })
  const deadline = input({ type: "date", required: "", "data-testid": "goal-deadline", "data-bind": "new-goal/deadline" })
  const responsible = input({ "data-testid": "goal-responsible", "data-bind": "new-goal/responsible" }, data.leadInstitution)
  const services = select(choices.pzkServices, "", { multiple: "", "data-testid": "goal-services" })
  const form = el(
    "form",
    { class: "new-goal", "data-testid": "new-goal" },
    el("h4", {}, "Nowy cel"),
    ...parts.map(([, label, area]) => field(label, area)),
    field("Termin", deadline),
    field("Instytucja odpowiedzialna", responsible),
    choices.pzkServices.length ? field("Usługi z listy PZK", services) : el("p", { class: "muted" }, "Brak listy usług PZK na tym urządzeniu."),
    el("button", { type: "submit", "data-testid": "add-goal" }, "Dodaj cel"),
  ) as HTMLFormElement
  form.addEventListener("submit", event => {
    event.preventDefault()
    const text = Object.fromEntries(parts.map(([part, , area]) => [part, area.value.trim()])) as Record<(typeof SMART)[number][0], string>
    const chosen = [...services.selectedOptions].map(o => o.value)
    try {
      edits.upsertGoal({ ...text, deadline: deadline.value, responsible: responsible.value.trim(), services: chosen })
      form.reset()
    } catch (error) {
      form.querySelector(".refusal")?.remove()
      form.append(el("p", { class: "refusal", role: "alert", "data-testid": "refusal" }, (error as Error).message))
    }
  })
  return form
}
