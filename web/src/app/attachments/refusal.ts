// An attachment refused on the device or by the server, with the catalogue's code (`app.*` in
// sync-core/messages/pl.json) and its Polish text as the message.

import { message } from "../../model"

export class AttachmentRefused extends Error {
  constructor(readonly code: string) {
    super(message(code))
  }
}

/** The code for the server's answer `status` to an upload (null: not a refusal, try again later). */
export function uploadRefusalCode(status: number): string | null {
  switch (status) {
    case 413:
      return "app.attachment-too-large"
    case 415:
      return "app.attachment-type"
    case 422:
      return "app.attachment-hash"
    case 403:
      return "app.attachment-read-only"
    default:
      return null
  }
}
