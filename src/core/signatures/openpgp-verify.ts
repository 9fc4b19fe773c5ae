import type * as OpenPGP from 'openpgp' with { 'resolution-mode': 'import' };
import { QmError } from '../errors';

// openpgp's types are ESM-only; its package also ships the CommonJS build required here.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
const openpgp = require('openpgp') as typeof OpenPGP;

/**
 * Checks a clearsigned document (SHASUMS256.txt.asc) against armored public keys and returns the
 * signed text. Only verifier.ts requires this module, lazily (see there).
 */
export async function verifyClearsigned(armored: string, armoredKeys: readonly string[], url: string): Promise<string> {
  let message: Awaited<ReturnType<typeof openpgp.readCleartextMessage>>;
  try {
    message = await openpgp.readCleartextMessage({ cleartextMessage: armored });
  } catch (error) {
    throw new QmError('ESIGNATURE', `${url} is not a clearsigned OpenPGP message: ${(error as Error).message}`, { url, cause: error });
  }
  const verificationKeys = (await Promise.all(armoredKeys.map((armoredKey) => openpgp.readKeys({ armoredKeys: armoredKey })))).flat();
  try {
    const result = await openpgp.verify({ message, verificationKeys, expectSigned: true });
    return String(result.data);
  } catch (error) {
    const ids = message.getSigningKeyIDs().map((id) => id.toHex().toUpperCase());
    throw new QmError('ESIGNATURE', `The signature of ${url} (key ${ids.join(', ') || 'unknown'}) does not verify with the trusted keys: ${(error as Error).message}`, {
      url,
      cause: error,
    });
  }
}

/** The primary fingerprints (upper-case hex) of every key in an armored keyring. */
export async function keyFingerprints(armoredKeys: string): Promise<string[]> {
  const keys = await openpgp.readKeys({ armoredKeys });
  return keys.map((key) => key.getFingerprint().toUpperCase());
}
