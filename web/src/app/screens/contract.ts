// The social/family contract: its text, signed in person or accepted by phone or video (then
// with the note of what the person was told and agreed to), and the contract as signed.

import { button, el, field, input, section, select, when } from "./dom"
import type { Access, CaseData, CaseEdits, Choices } from "./port"
import { textField } from "./text-field"

/**
 * `scans(i)`: the tiles of the photos or scans of the paper signed at signing `i`, shown beside
 * it (the attachments linked to that signing).
 */
export function contract(
  data: CaseData,
  edits: CaseEdits,
  choices: Choices,
  access: Access,
  scans: (index: number) => HTMLElement[] = () => [],
): HTMLElement {
  const readOnly = !access.canWrite || access.partner
  const c = data.contract
  const body = section(
    "contract",
    "Kontrakt socjalny",
    textField({
      bind: "contract/text",
      value: c.text,
      readOnly,
      rows: 6,
      placeholder: "Treść kontraktu: co robi rodzina, co robią instytucje",
      write: text => edits.setContractText(text),
    }),
  )
  if (c.signings.length && c.changedSinceSigned) {
    body.append(el("p", { class: "late", "data-testid": "contract-changed" }, "Treść zmieniono po ostatnim podpisaniu — trzeba podpisać aktualną wersję."))
  }
  const signings = el(
    "ol",
    { class: "signings", "data-testid": "signings" },
    ...c.signings.map((s, i) =>
      el(
        "li",
        { "data-mode": s.mode, "data-signing": String(i) },
        `${s.signer}: ${s.modeLabel}, ${when(s.at)} (zapisał(a) ${s.recordedBy})`,
        s.note ? el("p", { class: "muted" }, `Notatka: ${s.note}`) : "",
        el("details", {}, el("summary", {}, "Kontrakt w podpisanej wersji"), el("pre", { class: "signed-text" }, s.text)),
        el("div", { class: "signing-scans", "data-testid": "signing-scans" }, ...scans(i)),
      ),
    ),
  )
  if (c.signings.length) body.append(el("h4", {}, "Podpisania"), signings)
  if (!readOnly) body.append(signForm(data, edits, choices))
  return body
}

function signForm(data: CaseData, edits: CaseEdits, choices: Choices): HTMLElement {
  const signer = input({ "data-testid": "signer", "data-bind": "sign/signer", list: "signers" })
  const people = el("datalist", { id: "signers" }, ...data.household.map(p => el("option", { value: p.name })))
  const mode = select(choices.signingModes, choices.signingModes[0]?.[0] ?? "", { "data-testid": "signing-mode" })
  const note = el("textarea", { rows: "2", "data-testid": "signing-note", "data-bind": "sign/note" }) as HTMLTextAreaElement
  const noteField = field("Notatka: co przekazano i na co osoba się zgodziła", note, "wymagana przy akceptacji telefonicznej lub wideo")
  const remote = () => mode.value !== choices.signingModes[0]?.[0]
  const update = () => {
    noteField.hidden = !remote()
  }
  mode.addEventListener("change", update)
  update()
  return el(
    "div",
    { class: "sign", "data-testid": "sign-form" },
    el("h4", {}, "Podpisanie"),
    field("Kto podpisuje / akceptuje", signer),
    people,
    field("Sposób", mode),
    noteField,
    button("Zapisz podpisanie", () => edits.sign(signer.value.trim(), mode.value, remote() ? note.value.trim() : ""), {
      "data-testid": "sign",
    }),
  )
}
