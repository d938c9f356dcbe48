// What the Node scripts that run the shared vectors share: the model layer compiled by
// `tsc -p tsconfig.model.json` (loaded as an ES module) and the code a refused edit throws.

import { writeFileSync } from "node:fs"

const compiled = new URL("../node_modules/.model-test/", import.meta.url)
writeFileSync(new URL("package.json", compiled), '{"type":"module"}\n')

/** The compiled model (web/src/model/index.ts). */
export const M = await import(new URL("web/src/model/index.js", compiled).href)

/** The code of the `ModelError` that `build` throws, or null when it builds an edit. */
export function refusal(build) {
  try {
    build()
    return null
  } catch (e) {
    if (!(e instanceof M.ModelError)) throw e
    return e.code
  }
}
