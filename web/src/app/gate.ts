// The way into the device's data, shared by the case app and the PZK meeting page: sign in
// with the one-time code, choose a PIN (first time), or unlock with the PIN (every session).
// What it hands back is an open vault and the device token kept in it.

import { ApiError, enroll, forgetLegacyDevice, legacyDeviceToken } from "../api"
import { Vault } from "../storage/vault"
import { wipedNotice } from "./wipe"
import { clearError, el, showError } from "../ui"
import { showNotice } from "./notice"

/** An unlocked device: its vault and the device token the vault keeps. */
export interface Unlocked {
  vault: Vault
  deviceToken: string
}

/** Shortest PIN accepted. */
export const PIN_MIN_LENGTH = 6

function describe(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return "Brak połączenia z serwerem — logowanie wymaga sieci."
    if (error.status === 401 || error.status === 400) return `Serwer nie przyjął kodu: ${error.message}`
    return `Serwer odpowiedział: ${error.message}`
  }
  return (error as Error)?.message ?? String(error)
}

function field(label: string, attrs: Record<string, string>): HTMLElement {
  return el("label", {}, label, el("input", { required: "", ...attrs }))
}

function value(form: HTMLFormElement, id: string): string {
  return (form.querySelector(`#${id}`) as HTMLInputElement).value
}

/** Shows `form` (a new section in `root`) and resolves with what its submit handler returns. */
function ask<T>(
  root: HTMLElement,
  title: string,
  text: string,
  fields: HTMLElement[],
  button: [string, string],
  submit: (form: HTMLFormElement) => Promise<T | null>,
): Promise<T> {
  const form = el("form", { "data-testid": `${button[1]}-form` }, ...fields) as HTMLFormElement
  const submitButton = el("button", { type: "submit", "data-testid": button[1] }, button[0]) as HTMLButtonElement
  form.append(submitButton)
  root.replaceChildren(el("section", { class: "gate" }, el("h2", {}, title), el("p", {}, text), form))
  root.hidden = false
  form.querySelector("input")?.focus()
  return new Promise(resolve => {
    form.addEventListener("submit", async event => {
      event.preventDefault()
      submitButton.disabled = true
      try {
        const result = await submit(form)
        if (result !== null) {
          clearError()
          root.replaceChildren()
          root.hidden = true
          resolve(result)
        }
      } catch (error) {
        showError(describe(error))
      } finally {
        submitButton.disabled = false
      }
    })
  })
}

function signIn(root: HTMLElement): Promise<string> {
  return ask(
    root,
    "Logowanie",
    "Wpisz jednorazowy kod, który dał Ci administrator. Ta przeglądarka stanie się Twoim urządzeniem.",
    [field("Kod", { id: "code", name: "code", autocomplete: "one-time-code", "data-testid": "code" })],
    ["Zaloguj", "login"],
    async form => {
      try {
        return await enroll(value(form, "code"))
      } catch (error) {
        showError(`Logowanie nie powiodło się. ${describe(error)}`)
        return null
      }
    },
  )
}

function choosePin(root: HTMLElement): Promise<string> {
  const pin = { type: "password", inputmode: "numeric", autocomplete: "new-password" }
  return ask(
    root,
    "Ustal PIN",
    "PIN otwiera dane spraw na tym urządzeniu; bez niego są zaszyfrowane i nieczytelne. " +
      "Zapamiętaj go: nie da się go odzyskać (po zapomnieniu trzeba zalogować się od nowa nowym kodem).",
    [
      field(`PIN (co najmniej ${PIN_MIN_LENGTH} cyfr)`, { id: "pin-new", "data-testid": "pin-new", ...pin }),
      field("Powtórz PIN", { id: "pin-repeat", "data-testid": "pin-repeat", ...pin }),
    ],
    ["Ustal PIN", "pin-set"],
    async form => {
      const chosen = value(form, "pin-new")
      if (!new RegExp(`^[0-9]{${PIN_MIN_LENGTH},}$`).test(chosen)) {
        showError(`PIN musi mieć co najmniej ${PIN_MIN_LENGTH} cyfr (same cyfry).`)
        return null
      }
      if (chosen !== value(form, "pin-repeat")) {
        showError("Podane PIN-y się różnią. Wpisz ten sam PIN dwa razy.")
        return null
      }
      return chosen
    },
  )
}

function unlock(root: HTMLElement): Promise<Vault> {
  return ask(
    root,
    "Odblokuj",
    "Wpisz swój PIN, aby otworzyć dane spraw na tym urządzeniu.",
    [field("PIN", { id: "pin", type: "password", inputmode: "numeric", autocomplete: "current-password", "data-testid": "pin" })],
    ["Odblokuj", "unlock"],
    async form => {
      const input = form.querySelector("#pin") as HTMLInputElement
      const result = await Vault.unlock(input.value)
      input.value = ""
      if (result.vault) return result.vault
      if (result.attemptsLeft === 0) {
        // Wiped: the page starts again at the sign-in, with the notice why.
        location.replace(wipedNotice("pin"))
        return null
      }
      showError(
        `Nieprawidłowy PIN. Dane na urządzeniu pozostają zamknięte. Pozostałe próby: ${result.attemptsLeft}; ` +
          "po ostatniej dane spraw zostaną usunięte z tego urządzenia.",
      )
      return null
    },
  )
}

/**
 * Asks the browser to keep the device's data (never evict it under storage pressure), and tells
 * the worker plainly when it refuses.
 */
export async function askPersistentStorage(): Promise<boolean> {
  const persisted = (await navigator.storage?.persisted?.()) || (await navigator.storage?.persist?.())
  if (!persisted) {
    showNotice(
      "Przeglądarka nie zgodziła się trwale przechowywać danych tej aplikacji. Przy braku miejsca może " +
        "usunąć zmiany, których jeszcze nie wysłano na serwer. Łącz się z siecią jak najczęściej " +
        "albo zainstaluj aplikację (menu przeglądarki: „Zainstaluj” / „Dodaj do ekranu głównego”).",
      "persistence",
    )
  }
  return Boolean(persisted)
}

/** Signs in (and chooses a PIN) or unlocks, in `root`; resolves with the open vault. */
export async function openDevice(root: HTMLElement): Promise<Unlocked> {
  for (;;) {
    if (await Vault.exists()) {
      const vault = await unlock(root)
      const deviceToken = await vault.get<string>("device-token")
      if (deviceToken) return { vault, deviceToken }
      // A vault without a token is half made (closed before the PIN was set): start afresh.
      vault.close()
      await Vault.wipe()
      continue
    }
    const deviceToken = legacyDeviceToken() ?? (await signIn(root))
    await askPersistentStorage()
    const pin = await choosePin(root)
    const vault = await Vault.create(pin)
    await vault.put("device-token", deviceToken)
    forgetLegacyDevice()
    return { vault, deviceToken }
  }
}
