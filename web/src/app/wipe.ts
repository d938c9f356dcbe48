// Wiping the device (sign-out, or the server's revocation at next contact), and telling the
// worker afterwards, on the freshly loaded page, what happened.

import { Vault } from "../storage/vault"
import { showNotice } from "./notice"

/** Why the device was wiped (the `?usunieto=` of the page loaded afterwards). */
export type WipeReason = "wylogowano" | "odwolane" | "pin"

const MESSAGES: Record<WipeReason, string> = {
  wylogowano: "Wylogowano. Dane spraw zostały usunięte z tego urządzenia.",
  odwolane:
    "Administrator odłączył to urządzenie od Twojego konta. Wszystkie dane spraw zostały z niego " +
    "usunięte. Aby pracować dalej, poproś administratora o nowy kod logowania.",
  pin:
    "Zbyt wiele razy wpisano nieprawidłowy PIN, więc dane spraw zostały usunięte z tego urządzenia. " +
    "Zmiany wysłane wcześniej są bezpieczne na serwerze. Zaloguj się ponownie nowym kodem od administratora.",
}

/** The address of `home` (this page by default) that shows why the device was wiped. */
export function wipedNotice(reason: WipeReason, home = location.pathname): string {
  return `${home}?usunieto=${reason}`
}

/**
 * Deletes the device's store and reloads `home`, which drops every decrypted document from
 * memory; `before` runs first (closing the connection and the vault).
 */
export async function wipeDevice(home: string, reason: WipeReason, before: () => void): Promise<void> {
  try {
    before()
  } finally {
    await Vault.wipe()
    location.replace(wipedNotice(reason, home))
  }
}

/** Shows why the device was wiped, if this page was loaded after a wipe. */
export function showWipeNotice(): void {
  const params = new URLSearchParams(location.search)
  const reason = params.get("usunieto") as WipeReason | null
  if (!reason || !(reason in MESSAGES)) return
  showNotice(MESSAGES[reason], `wiped-${reason}`)
  params.delete("usunieto")
  const rest = params.toString()
  history.replaceState(null, "", `${location.pathname}${rest ? `?${rest}` : ""}`)
}
