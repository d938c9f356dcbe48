// Photos lose their metadata before they are stored: the image is decoded by the browser,
// drawn on a canvas and encoded again, so only its pixels survive. EXIF with the GPS position,
// the camera's serial number and the time, XMP and IPTC are all gone, whatever the phone
// wrote; the EXIF orientation is applied to the pixels first, so the photo stays upright.
//
// Why a canvas and not a library from npm: re-encoding removes every kind of metadata by
// construction (a metadata editor removes the kinds it knows: piexifjs, the usual choice,
// handles only JPEG's EXIF and is unmaintained since 2019), and it needs no dependency. The
// cost is one JPEG re-compression (quality 0.92) and the decoded image in memory (a 12 MP
// photo is ~48 MB of pixels); photos are capped at 4096 px on their long side. A format the
// browser cannot decode (HEIC in Chromium) is refused: it cannot be cleaned, so it is not kept.

import { AttachmentRefused } from "./refusal"

const MAX_SIDE = 4096
const THUMBNAIL_SIDE = 320

async function decode(file: Blob): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(file, { imageOrientation: "from-image" })
  } catch {
    throw new AttachmentRefused("app.attachment-photo-unreadable")
  }
}

async function encode(bitmap: ImageBitmap, maxSide: number, type: string, quality: number): Promise<Blob> {
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height))
  const width = Math.max(1, Math.round(bitmap.width * scale))
  const height = Math.max(1, Math.round(bitmap.height * scale))
  const canvas = new OffscreenCanvas(width, height)
  const context = canvas.getContext("2d")
  if (!context) throw new AttachmentRefused("app.attachment-photo-unreadable")
  if (type === "image/jpeg") {
    // JPEG has no transparency: what was transparent becomes white, not black.
    context.fillStyle = "#fff"
    context.fillRect(0, 0, width, height)
  }
  context.drawImage(bitmap, 0, 0, width, height)
  return canvas.convertToBlob({ type, quality })
}

/** A photo as it is stored: its pixels only (PNG stays PNG, every other image becomes JPEG). */
export async function withoutMetadata(file: Blob, mime: string): Promise<{ file: Blob; mime: string }> {
  const bitmap = await decode(file)
  try {
    const type = mime === "image/png" ? "image/png" : "image/jpeg"
    return { file: await encode(bitmap, MAX_SIDE, type, 0.92), mime: type }
  } finally {
    bitmap.close()
  }
}

/** A small JPEG preview of an image. */
export async function thumbnailOf(image: Blob): Promise<Uint8Array<ArrayBuffer>> {
  const bitmap = await decode(image)
  try {
    const blob = await encode(bitmap, THUMBNAIL_SIDE, "image/jpeg", 0.7)
    return new Uint8Array(await blob.arrayBuffer())
  } finally {
    bitmap.close()
  }
}
