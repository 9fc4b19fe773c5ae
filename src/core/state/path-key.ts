const FNV_OFFSET = 0x6c62272e07bb014262b821756295c58dn;
const FNV_PRIME = 0x0000000001000000000000000000013bn;
const MASK = (1n << 128n) - 1n;

/**
 * The file name stem of state kept per path (a manifest's active record, its last use): 32 hex
 * digits of 128-bit FNV-1a over the path's UTF-8 bytes. Not cryptographic, and it need not be:
 * the paths are the user's own projects, and an active record names its manifest and is checked
 * against it. Computed without node:crypto, whose loading alone costs `qm which` about 8 ms.
 */
export function pathKey(text: string): string {
  let hash = FNV_OFFSET;
  for (const byte of Buffer.from(text, 'utf8')) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK;
  return hash.toString(16).padStart(32, '0');
}
