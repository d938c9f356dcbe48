// What a file is, by its first bytes, never by its name or what the picker says: the same
// types and signatures as the server's sniffing (server/src/blobs/sniff.rs), so that the app
// refuses on the device, in Polish, what the server would refuse later.

const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to))

/** The MIME type of a file starting with `head` (its first 16 bytes or more), or null. */
export function sniff(head: Uint8Array): string | null {
  if (ascii(head, 0, 5) === "%PDF-") return "application/pdf"
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "image/jpeg"
  if (head.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => head[i] === b)) {
    return "image/png"
  }
  if (head.length >= 12 && ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 12) === "WEBP") return "image/webp"
  if (head.length >= 12 && ascii(head, 4, 8) === "ftyp") {
    const brand = ascii(head, 8, 12)
    if (["heic", "heix", "heim", "heis", "hevc", "hevx"].includes(brand)) return "image/heic"
    if (["mif1", "msf1"].includes(brand)) return "image/heif"
  }
  return null
}
