// The one error the model throws: a stable code, its arguments and the Polish text.

import { message } from "./catalogue.ts"
import type { Code } from "./codes.ts"

/** The arguments of a code's message, by placeholder name. */
export type Args = Record<string, string>

/**
 * A rule of the model broken, or a document or value of the wrong shape. `code` is stable (the
 * same as the Rust model's); `message` is the Polish text for the worker.
 */
export class ModelError extends Error {
  readonly code: Code
  readonly args: Args

  constructor(code: Code, args: Args = {}) {
    super(message(code, args))
    this.name = "ModelError"
    this.code = code
    this.args = args
  }
}

/** Throws a `field.invalid` error for the field at `path`. */
export function fieldError(path: string, reason: string): ModelError {
  return new ModelError("field.invalid", { path, reason })
}
