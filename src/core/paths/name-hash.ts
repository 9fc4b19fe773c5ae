const FNV_OFFSET = 0x6c62272e07bb014262b821756295c58dn;
const FNV_PRIME = 0x0000000001000000000000000000013bn;
const MASK = (1n << 128n) - 1n;

/**
 * 32 hex digits of 128-bit FNV-1a over the text's UTF-8 bytes: the file name stem of state kept
 * per path (a manifest's active record, its last use) and the host and space tags of temp names.
 * Not cryptographic, and it need not be: the texts are the user's own paths and host names, and
 * whatever is read back names what it is for and is checked. Computed without node:crypto, whose
 * loading alone costs every `qm which` and `qm exec` about 8 ms (src/cli/entry.ts).
 */
export function nameHash(text: string): string {
  return fnv1a128(text).toString(16).padStart(32, '0');
}

/**
 * 8 hex digits: the four 32-bit words of nameHash xor-folded. Not a slice of it: FNV-1a's last
 * byte reaches only the low bits, so the top digits of "build-7" and "build-9" are the same.
 */
export function shortNameHash(text: string): string {
  const hash = fnv1a128(text);
  const folded = (hash ^ (hash >> 32n) ^ (hash >> 64n) ^ (hash >> 96n)) & 0xffffffffn;
  return folded.toString(16).padStart(8, '0');
}

function fnv1a128(text: string): bigint {
  let hash = FNV_OFFSET;
  for (const byte of Buffer.from(text, 'utf8')) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK;
  return hash;
}

/** 16 hex digits that make a name unique within its process (with the PID and start time beside them). */
export function uniqueSuffix(): string {
  const part = (): string => Math.floor(Math.random() * 0x1_0000_0000).toString(16).padStart(8, '0');
  return part() + part();
}

/**
 * 16 hex digits over bytes, to tell whether stored bytes are still what was written (not for
 * anything an adversary chooses): two 32-bit FNV-style hashes with different offsets over the
 * bytes taken four at a time (a 60 KB file in well under a millisecond even before the JIT
 * warms up: it runs once per process, at start-up), then the last few one by one.
 */
export function bytesHash(bytes: Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  const whole = bytes.length & ~3;
  const words = bytes.byteOffset % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, whole >> 2) : new Int32Array(new Uint8Array(bytes.subarray(0, whole)).buffer);
  for (let i = 0; i < words.length; i++) {
    a = Math.imul(a ^ words[i]!, 0x01000193);
    b = Math.imul(b ^ words[i]!, 0x01000193);
  }
  for (let i = whole; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i]!, 0x01000193);
    b = Math.imul(b ^ bytes[i]!, 0x01000193);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
