// The stage bar of a case card: the stages in order with the current one marked, the moves the
// rules allow now as buttons, and every other move of the workflow with the rules' reason why
// it is blocked. Which moves exist and why one is blocked come from the model; this only draws.

import { button, el } from "./dom"

/** One move the workflow knows from the current stage. */
export interface StageMove {
  to: string
  label: string
  /** Null when the move may be made now; else the Polish reason it is blocked. */
  blocked: string | null
}

export interface StageBarInput {
  /** Every stage in the workflow's order: value and Polish label. */
  stages: ReadonlyArray<readonly [string, string]>
  current: string
  moves: StageMove[]
  readOnly: boolean
  move(to: string): void | Promise<void>
}

export function stageBar(input: StageBarInput): HTMLElement {
  const steps = el(
    "ol",
    { class: "stages", "data-testid": "stages" },
    ...input.stages.map(([value, label]) =>
      el("li", { "data-stage": value, ...(value === input.current ? { "aria-current": "step" } : {}) }, label),
    ),
  )
  const open = input.moves.filter(m => m.blocked === null)
  const blocked = input.moves.filter(m => m.blocked !== null)
  const moves = el("div", { class: "moves", "data-testid": "moves" })
  if (!input.readOnly) {
    for (const m of open) {
      moves.append(
        button(`Przejdź do: ${m.label}`, () => input.move(m.to), { "data-move": m.to, "data-testid": `move-${m.to}` }),
      )
    }
  }
  const why = el(
    "ul",
    { class: "blocked", "data-testid": "blocked-moves" },
    ...blocked.map(m => el("li", { "data-blocked": m.to }, el("strong", {}, `${m.label}: `), m.blocked ?? "")),
  )
  if (input.moves.length === 0) moves.append(el("span", { class: "muted" }, "Sprawa jest zakończona."))
  return el("div", { class: "stage-bar", "data-stage": input.current }, steps, moves, blocked.length ? why : "")
}
