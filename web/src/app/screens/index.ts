// The case app's screens (caseload, today, the case card). To be built: see issue #17.

import type { MountScreens } from "../context"

export const mountCaseApp: MountScreens = (root, context) => {
  root.textContent = `Zalogowano: ${context.me.name}`
}
