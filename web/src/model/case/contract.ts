// The social or family contract (K7.2 step 5, sync-core/src/model/case/contract.rs): its text,
// its signings (each freezing the version signed), and what the text was at a signing.

import * as A from "@automerge/automerge/slim"

import type { Edit, Editor } from "../editor.ts"
import { ModelError, fieldError } from "../errors.ts"
import * as R from "../reader.ts"
import { SIGNING_MODES, type CaseDoc } from "./layout.ts"
import { caseEdit, caseMap, checkEnum, scalar } from "./edit.ts"
import { openCase, readContract } from "./read.ts"
import type { Signature } from "./types.ts"

/** Replaces the contract's text as a diff, so concurrent edits elsewhere in it are kept. */
export function setContractText(doc: CaseDoc, text: string, by: Editor, at: Date): Edit<CaseDoc> {
  R.text(caseMap(doc, "contract"), "text", "contract")
  return caseEdit("contract: text updated", by, at, d => {
    A.updateText(d, ["contract", "text"], text)
  })
}

/** A signing about to be written, with the heads it signs. */
export type Signing = Edit<CaseDoc> & { heads: string[] }

/**
 * Records a signing of the contract as it is now, made by `signature.signer` and recorded by
 * `by`. A contract is signed on an IPP with text; remote acceptance (phone, video) needs the
 * recorded consent in `signature.consentNote`.
 */
export function signContract(doc: CaseDoc, signature: Signature, by: Editor, at: Date): Signing {
  const root = openCase(doc)
  const contract = R.map(root, "contract", "")
  if (R.text(contract, "text", "contract").trim() === "") throw new ModelError("contract.empty-text")
  if (Object.keys(R.map(root, "goals", "")).length === 0) throw new ModelError("contract.no-goal")
  checkSignature(signature)
  R.list(contract, "signatures", "contract")
  const heads = A.getHeads(doc)
  const signing = caseEdit(`contract: signed by ${signature.signer} (${signature.mode})`, by, at, d => {
    d.contract.signatures.push({
      heads: heads.map(scalar),
      signer: scalar(signature.signer),
      at,
      mode: scalar(signature.mode),
      consentNote: scalar(signature.consentNote),
      recordedBy: scalar(by.login),
    })
  })
  return { ...signing, heads }
}

function checkSignature(signature: Signature): void {
  if (signature.signer.trim() === "") throw new ModelError("contract.no-signer")
  checkEnum("contract/signatures/mode", SIGNING_MODES, signature.mode)
  if (signature.mode !== "in_person" && signature.consentNote.trim() === "") {
    throw new ModelError("contract.remote-without-consent", { mode: signature.mode })
  }
}

/** The contract text as it was at `heads`. */
export function contractTextAt(doc: CaseDoc, heads: string[]): string {
  return A.view(doc, heads).contract.text
}

/** How many IPP goals the case had at `heads`. */
export function goalCountAt(doc: CaseDoc, heads: string[]): number {
  return Object.keys(A.view(doc, heads).goals ?? {}).length
}

/** The contract text exactly as it was when signing number `index` (0 = first) was made. */
export function signedContractText(doc: CaseDoc, index: number): string {
  const contract = readContract(caseMap(doc, "contract"), "contract", doc)
  const signing = contract.signatures[index]
  if (signing === undefined) throw fieldError("contract/signatures", `no signing number ${index}`)
  return contractTextAt(doc, signing.heads)
}

/**
 * Whether the contract's text differs from the text of its latest signing (the latest by time,
 * of equal times the later in the list). A contract never signed has not changed: `false`.
 */
export function contractChangedSinceSigned(doc: CaseDoc): boolean {
  const contract = readContract(caseMap(doc, "contract"), "contract", doc)
  let latest: { at: number; heads: string[] } | undefined
  for (const signing of contract.signatures) {
    if (latest === undefined || signing.at.getTime() >= latest.at) {
      latest = { at: signing.at.getTime(), heads: signing.heads }
    }
  }
  if (latest === undefined) return false
  return contractTextAt(doc, latest.heads) !== contract.text
}
