// Draws the case app's icons (a white "K" on the app's blue) as PNG files in public/app/, with
// Node's zlib only. Run once after changing the design: `node scripts/icons.mjs`.

import { writeFileSync } from "node:fs"
import { deflateSync } from "node:zlib"

const BLUE = [0x1f, 0x4e, 0x79]
const WHITE = [0xff, 0xff, 0xff]

/** Whether (x, y), in units of the icon's size (0..1), is on the letter. */
function onLetter(x, y) {
  if (y < 0.25 || y > 0.75) return false
  if (x >= 0.3 && x <= 0.4) return true
  const stroke = 0.05
  // The two arms meet the stem at its middle.
  const upper = Math.abs(x - 0.4 - (0.5 - y) * 0.6) < stroke && y <= 0.5
  const lower = Math.abs(x - 0.4 - (y - 0.5) * 0.6) < stroke && y >= 0.5
  return upper || lower
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
function crc32(bytes) {
  let c = 0xffffffff
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
function chunk(type, data) {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, "ascii")
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
  return Buffer.concat([head, data, crc])
}

function png(size) {
  const rows = []
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 3)
    for (let x = 0; x < size; x++) {
      const colour = onLetter((x + 0.5) / size, (y + 0.5) / size) ? WHITE : BLUE
      row.set(colour, 1 + x * 3)
    }
    rows.push(row)
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header[8] = 8 // bit depth
  header[9] = 2 // truecolour
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  return Buffer.concat([
    signature,
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ])
}

for (const size of [192, 512]) {
  writeFileSync(new URL(`../public/app/icon-${size}.png`, import.meta.url), png(size))
}
