// The idle lock: after a configurable time without the worker touching the app it locks itself
// (the documents are written out, then the page reloads, which drops the store key and every
// decrypted document from memory, and asks for the PIN again).

/** The setting, in seconds (localStorage; no secret). */
const SETTING = "kooperacja.idleLockSeconds"

/** The default idle time before the app locks: 5 minutes. */
export const DEFAULT_IDLE_SECONDS = 300

/** The choices the settings offer, in minutes. */
export const IDLE_CHOICES_MINUTES = [1, 2, 5, 10, 15, 30]

export function idleSeconds(): number {
  const stored = Number(localStorage.getItem(SETTING))
  return Number.isFinite(stored) && stored > 0 ? stored : DEFAULT_IDLE_SECONDS
}

export function setIdleSeconds(seconds: number): void {
  localStorage.setItem(SETTING, String(seconds))
}

const ACTIVITY = ["pointerdown", "keydown", "touchstart", "wheel", "input"] as const

/** Calls `lock` once the worker has been idle for the configured time; returns a stop function. */
export function startIdleLock(lock: () => void): () => void {
  let last = Date.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const arm = () => {
    clearTimeout(timer)
    const left = last + idleSeconds() * 1000 - Date.now()
    if (left <= 0) return lock()
    timer = setTimeout(arm, left)
  }
  const active = () => {
    last = Date.now()
  }
  // Timers in a hidden tab may fire late: check again as soon as it is shown.
  const shown = () => {
    if (document.visibilityState === "visible") arm()
  }
  ACTIVITY.forEach(name => addEventListener(name, active, { capture: true, passive: true }))
  document.addEventListener("visibilitychange", shown)
  arm()
  return () => {
    clearTimeout(timer)
    ACTIVITY.forEach(name => removeEventListener(name, active, { capture: true }))
    document.removeEventListener("visibilitychange", shown)
  }
}
