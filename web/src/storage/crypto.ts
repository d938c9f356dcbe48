// The device store's cryptography, all WebCrypto: a random AES-GCM store key encrypts every
// value; it is kept only wrapped (AES-GCM) under a key derived from the worker's PIN with
// PBKDF2-SHA-256, and unwrapped into a non-extractable key for one session.

/** PBKDF2 iterations (OWASP's 2023 figure for PBKDF2-HMAC-SHA-256). */
export const PIN_ITERATIONS = 600_000

/** The store key as kept on the device: wrapped under the PIN's key. */
export interface WrappedStoreKey {
  salt: Uint8Array<ArrayBuffer>
  iterations: number
  iv: Uint8Array<ArrayBuffer>
  wrapped: ArrayBuffer
}

/** A value sealed with AES-GCM under the store key. */
export interface Sealed {
  iv: Uint8Array<ArrayBuffer>
  data: ArrayBuffer
}

const GCM = "AES-GCM"

function random(length: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(length))
}

async function pinKey(pin: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(pin), "PBKDF2", false, [
    "deriveKey",
  ])
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    material,
    { name: GCM, length: 256 },
    false,
    ["wrapKey", "unwrapKey"],
  )
}

/** A new random store key, and its wrapped form under `pin`. */
export async function newStoreKey(pin: string): Promise<{ key: CryptoKey; wrapped: WrappedStoreKey }> {
  const extractable = await crypto.subtle.generateKey({ name: GCM, length: 256 }, true, ["encrypt", "decrypt"])
  const salt = random(16)
  const iv = random(12)
  const wrapping = await pinKey(pin, salt, PIN_ITERATIONS)
  const wrapped = await crypto.subtle.wrapKey("raw", extractable, wrapping, { name: GCM, iv })
  const stored: WrappedStoreKey = { salt, iterations: PIN_ITERATIONS, iv, wrapped }
  // The session works with a non-extractable copy: script cannot read the key's bytes.
  const key = await unwrapStoreKey(pin, stored)
  if (!key) throw new Error("klucz urządzenia nie dał się odczytać zaraz po utworzeniu")
  return { key, wrapped: stored }
}

/** The store key unwrapped with `pin`, or null when the PIN is wrong. */
export async function unwrapStoreKey(pin: string, stored: WrappedStoreKey): Promise<CryptoKey | null> {
  const wrapping = await pinKey(pin, stored.salt, stored.iterations)
  try {
    return await crypto.subtle.unwrapKey(
      "raw",
      stored.wrapped,
      wrapping,
      { name: GCM, iv: stored.iv },
      { name: GCM, length: 256 },
      false,
      ["encrypt", "decrypt"],
    )
  } catch {
    // AES-GCM's tag does not match: another PIN wrapped this key.
    return null
  }
}

/** Seals `data`, bound to `label` (the value's key), so sealed values cannot be swapped. */
export async function seal(key: CryptoKey, data: Uint8Array<ArrayBuffer>, label: string): Promise<Sealed> {
  const iv = random(12)
  const additionalData = new TextEncoder().encode(label)
  return { iv, data: await crypto.subtle.encrypt({ name: GCM, iv, additionalData }, key, data) }
}

/** Opens what `seal` sealed under the same `label`; throws if it was altered. */
export async function unseal(key: CryptoKey, sealed: Sealed, label: string): Promise<Uint8Array<ArrayBuffer>> {
  const additionalData = new TextEncoder().encode(label)
  const plain = await crypto.subtle.decrypt({ name: GCM, iv: sealed.iv, additionalData }, key, sealed.data)
  return new Uint8Array(plain)
}
