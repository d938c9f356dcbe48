// The one Polish message catalogue (sync-core/messages/pl.json), shared with the Rust model
// and SDK: every code's text with {placeholders}, and the Polish labels of the model's values.
//
// A placeholder `{name}` takes the argument as it is; `{name:kind}` translates it (or each
// item of a comma-separated list) through the labels of `kind`, so a stage reads "diagnoza",
// never "diagnosis".

import catalogue from "../../../sync-core/messages/pl.json" with { type: "json" }

/** The kinds of values the catalogue has Polish labels for. */
export type LabelKind = keyof typeof catalogue.labels

const messages: Record<string, string> = catalogue.messages
const labels: Record<string, Record<string, string>> = catalogue.labels

/** The Polish label of a value of the model (a stage, a sector...), or the value itself. */
export function label(kind: LabelKind | string, value: string): string {
  return labels[kind]?.[value] ?? value
}

/** The Polish text of `code` with its arguments filled in. */
export function message(code: string, args: Record<string, string> = {}): string {
  const text = messages[code]
  if (text === undefined) return `Błąd: ${code}`
  return text.replace(/\{(\w+)(?::(\w+))?\}/g, (_, name: string, kind?: string) => {
    const value = args[name]
    if (value === undefined) return ""
    if (kind === undefined) return value
    return value
      .split(", ")
      .map(item => label(kind, item))
      .join(", ")
  })
}

/** Every code the catalogue has a text for. */
export function catalogueCodes(): string[] {
  return Object.keys(messages)
}

/**
 * The code a server's refusal carries: its `error` message and close reason start with
 * `[code] ` (sync-core's `coded_text`); `undefined` for a message without one.
 */
export function refusalCode(text: string): string | undefined {
  return /\[([a-z0-9-]+(?:\.[a-z0-9-]+)+)\] /.exec(text)?.[1]
}

/**
 * What the worker reads when the server refuses a change or the connection: the catalogue's
 * Polish text for the code the refusal carries (its arguments do not travel, so a text that
 * needs them gives way to a general sentence naming the code); never the server's English.
 */
export function refusalMessage(reason: string): string {
  const code = refusalCode(reason)
  const text = code === undefined ? undefined : messages[code]
  if (text !== undefined && !text.includes("{")) return `Serwer odrzucił zmianę lub połączenie: ${text}`
  return code === undefined
    ? "Serwer odrzucił zmianę lub połączenie."
    : `Serwer odrzucił zmianę lub połączenie (kod ${code}).`
}
