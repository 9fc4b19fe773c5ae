import { QmError } from '../errors';

/**
 * - `if-published` (default): a signature upstream or the mirror publishes is checked, and a bad
 *   one fails (ESIGNATURE); a missing one is noted and the checksums alone are trusted.
 * - `require`: a missing signature fails too.
 * - `off`: signatures are not fetched.
 */
export type SignatureMode = 'require' | 'if-published' | 'off';

export interface SignaturePolicy {
  mode: SignatureMode;
  /**
   * Per signing tool, a file of trusted keys that replaces the built-in trust (for a mirror that
   * re-signs): an armored OpenPGP keyring for node and bun, minisign public keys for zig.
   */
  keyFiles: Partial<Record<SigningTool, string>>;
}

export const SIGNING_TOOLS = ['node', 'bun', 'zig'] as const;
export type SigningTool = (typeof SIGNING_TOOLS)[number];

export const DEFAULT_SIGNATURE_POLICY: SignaturePolicy = Object.freeze({ mode: 'if-published', keyFiles: Object.freeze({}) });

/** QM_SIGNATURES (require | if-published | off) and QM_KEYS_NODE, QM_KEYS_BUN, QM_KEYS_ZIG. */
export function signaturePolicyFromEnv(env: NodeJS.ProcessEnv): SignaturePolicy {
  const raw = env.QM_SIGNATURES?.trim() || 'if-published';
  if (raw !== 'require' && raw !== 'if-published' && raw !== 'off') {
    throw new QmError('EUSAGE', `QM_SIGNATURES must be require, if-published or off, not "${raw}"`, { found: raw });
  }
  const keyFiles: Partial<Record<SigningTool, string>> = {};
  for (const tool of SIGNING_TOOLS) {
    const file = env[`QM_KEYS_${tool.toUpperCase()}`]?.trim();
    if (file) keyFiles[tool] = file;
  }
  return { mode: raw, keyFiles };
}
