// Registers the case app's service worker (`/app/sw.js`, scope `/app/`), which keeps the
// application shell so that the app opens with no network after its first load.

export async function registerServiceWorker(): Promise<void> {
  if (!("serviceWorker" in navigator)) return
  try {
    await navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" })
  } catch {
    // Without a service worker the app still works online; nothing for the worker to do.
  }
}
