// The household's address and contact phone (sync-core/src/model/case/contact.rs): two optional
// scalars at the case's root, the address one trimmed line of at most 200 characters, the phone
// kept in E.164 ("+48601234567") whatever the worker typed (nine Polish digits with or without
// +48/0048, or a foreign number with its country code).

import { type Edit, type Editor } from "../editor.ts"
import { ModelError } from "../errors.ts"
import * as R from "../reader.ts"
import type { CaseDoc } from "./layout.ts"
import { caseEdit, putOptStr, type Obj } from "./edit.ts"
import { openCase } from "./read.ts"

/** The longest address kept, in characters. */
export const MAX_ADDRESS_CHARS = 200

/** What the worker typed (`null` or blank clears). */
export interface HouseholdContact {
  address: string | null
  phone: string | null
}

/** Rust's `str::trim`: Unicode White_Space at both ends. */
export const trim = (s: string): string => s.replace(/^[\p{White_Space}]+|[\p{White_Space}]+$/gu, "")

/** The address as kept: trimmed, `null` when blank; refused when too long or not one line. */
export function normalizeAddress(address: string): string | null {
  const kept = trim(address)
  if (kept === "") return null
  if (Array.from(kept).length > MAX_ADDRESS_CHARS || /\p{Cc}/u.test(kept)) throw new ModelError("household.address-invalid")
  return kept
}

/** The phone as kept (E.164), `null` when blank; refused when it is not a phone number. */
export function normalizePhone(phone: string): string | null {
  const typed = trim(phone)
  if (typed === "") return null
  const refused = () => new ModelError("household.phone-invalid", { phone: Array.from(typed).slice(0, 40).join("") })
  const compact = typed.replace(/[ \-.()\u00a0]/g, "")
  let international = true
  let digits: string
  if (compact.startsWith("+")) digits = compact.slice(1)
  else if (compact.startsWith("00")) digits = compact.slice(2)
  else {
    international = false
    digits = compact
  }
  if (!/^[0-9]+$/.test(digits)) throw refused()
  let national = digits
  if (international) {
    if (!digits.startsWith("48")) {
      if (digits.length < 8 || digits.length > 15 || digits.startsWith("0")) throw refused()
      return `+${digits}`
    }
    national = digits.slice(2)
  }
  if (national.length !== 9 || national.startsWith("0")) throw refused()
  return `+48${national}`
}

/** Sets the household's address and phone, writing only the fields whose kept value changes. */
export function setHouseholdContact(doc: CaseDoc, contact: HouseholdContact, by: Editor, at: Date): Edit<CaseDoc> {
  const root = openCase(doc)
  const address = normalizeAddress(contact.address ?? "")
  const phone = normalizePhone(contact.phone ?? "")
  const currentAddress = R.optStr(root, "householdAddress", "")
  const currentPhone = R.optStr(root, "householdPhone", "")
  return caseEdit("household: address and phone saved", by, at, d => {
    if (currentAddress !== address) putOptStr(d as unknown as Obj, "householdAddress", address)
    if (currentPhone !== phone) putOptStr(d as unknown as Obj, "householdPhone", phone)
  })
}
