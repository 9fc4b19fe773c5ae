import { readFile } from 'node:fs/promises';
import { QmError, isQmError } from '../errors';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import type { ArtifactSignature } from './artifact-signature';
import { parseMinisignKeys, verifyMinisign, type MinisignKey } from './minisign';
import { DEFAULT_SIGNATURE_POLICY, type SignaturePolicy, type SigningTool } from './policy';
import { BUILT_IN_TRUST, type BuiltInTrust } from './trust';
import type * as OpenpgpVerify from './openpgp-verify';

/**
 * openpgp (a few hundred kB) is its own bundle (out/openpgp-verify.js), required on the first
 * signature to check: `qm --version`, `which`, `env` and `exec` never parse it.
 */
function openpgpVerify(): typeof OpenpgpVerify {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred on purpose, see above
  return require('./openpgp-verify') as typeof OpenpgpVerify;
}

/** Where signature documents and keys come from: the index cache (one GET per URL, shared), in practice. */
export interface SignedDocuments {
  get<T>(url: string, parse: (body: string) => T, request?: DocumentRequest): Promise<T>;
}

export interface DocumentRequest {
  signal?: AbortSignal;
  refresh?: boolean;
  /** Remember a 404 like a document (IndexRequest.keepNotFound). */
  keepNotFound?: boolean;
}

type ProviderRequest = DocumentRequest;

/**
 * Checks what upstreams sign (Node's and Bun's SHASUMS256.txt.asc, Zig's .minisig) with the
 * keys the policy trusts. Keys are read once per process; signature documents go through the
 * index cache (one GET per URL, shared by every caller).
 */
export class SignatureVerifier {
  private readonly pgpKeys = new Map<SigningTool, Promise<string[]>>();
  private readonly minisignKeys = new Map<SigningTool, Promise<MinisignKey[]>>();
  private readonly logger: Logger;

  constructor(
    private readonly indexes: SignedDocuments,
    readonly policy: SignaturePolicy = DEFAULT_SIGNATURE_POLICY,
    logger?: Logger,
    /** What is trusted without QM_KEYS_*: upstream's published keys (trust.ts). */
    private readonly trust: Readonly<Partial<Record<SigningTool, BuiltInTrust>>> = BUILT_IN_TRUST,
  ) {
    this.logger = logger ?? silentLogger;
  }

  get enabled(): boolean {
    return this.policy.mode !== 'off';
  }

  /**
   * The text a clearsigned `ascUrl` signs, verified; undefined when signatures are off, or when
   * none is published and the policy allows that (said in the log). ESIGNATURE otherwise.
   */
  async clearsigned(tool: SigningTool, ascUrl: string, request: ProviderRequest = {}): Promise<string | undefined> {
    if (!this.enabled) return undefined;
    if (!this.policy.keyFiles[tool] && !this.trust[tool]) {
      // Bun signs, but publishes no fingerprint to pin: without a configured key there is nothing to check against.
      if (this.policy.mode === 'require') {
        throw new QmError('ESIGNATURE', `QM_SIGNATURES=require, but no key is trusted for ${tool}: set QM_KEYS_${tool.toUpperCase()} to a file of its armored public keys`);
      }
      this.logger.info(`No key is trusted for ${tool} (QM_KEYS_${tool.toUpperCase()}): ${ascUrl} is not checked, only the published checksums`);
      return undefined;
    }
    const armored = await this.fetchSignature(ascUrl, request);
    if (armored === undefined) return undefined;
    const keys = await this.pgpKeysFor(tool, request);
    return openpgpVerify().verifyClearsigned(armored, keys, ascUrl);
  }

  /** Checks a downloaded archive against its detached signature (before it is unpacked or published). */
  async checkFile(signature: ArtifactSignature, file: string, request: ProviderRequest = {}): Promise<void> {
    if (!this.enabled) return;
    const text = await this.fetchSignature(signature.url, request);
    if (text === undefined) return;
    const keys = await this.minisignKeysFor(signature.tool as SigningTool);
    await verifyMinisign(file, text, keys, signature.url);
  }

  /** The signature document, or undefined when it is not published (404) and the policy allows that. */
  private async fetchSignature(url: string, request: ProviderRequest): Promise<string | undefined> {
    try {
      // A mirror without signatures answers 404 every time: remember that, as the index is (no GET per install).
      return await this.indexes.get(url, (body) => body, { ...request, keepNotFound: true });
    } catch (error) {
      if (!isQmError(error, 'EHTTP') || error.details.status !== 404) throw error;
      if (this.policy.mode === 'require') {
        throw new QmError('ESIGNATURE', `No signature is published at ${url}, and QM_SIGNATURES=require`, { url, cause: error });
      }
      this.logger.info(`No signature at ${url}: only the published checksums are verified`);
      return undefined;
    }
  }

  private pgpKeysFor(tool: SigningTool, request: ProviderRequest): Promise<string[]> {
    let keys = this.pgpKeys.get(tool);
    if (!keys) {
      keys = this.loadPgpKeys(tool, request);
      this.pgpKeys.set(tool, keys);
      keys.catch(() => this.pgpKeys.delete(tool));
    }
    return keys;
  }

  private async loadPgpKeys(tool: SigningTool, request: ProviderRequest): Promise<string[]> {
    const file = this.policy.keyFiles[tool];
    if (file) return [await readKeyFile(file, tool)];
    const trust = this.trust[tool];
    if (trust?.kind !== 'pgp' || trust.fingerprints.length === 0) {
      throw new QmError('ESIGNATURE', `${tool} publishes a signature, but no key is trusted for it: set QM_KEYS_${tool.toUpperCase()} to a file of its armored public keys (or QM_SIGNATURES=off)`);
    }
    const { keyFingerprints } = openpgpVerify();
    // A fetched key counts only when its fingerprint is one pinned here: the URL is not the trust.
    const fetched = await Promise.all(
      trust.fingerprints.map(async (fingerprint) => {
        const url = trust.keyUrl(fingerprint);
        try {
          const armoredKey = await this.indexes.get(url, (body) => body, request);
          const found = await keyFingerprints(armoredKey);
          if (!found.includes(fingerprint)) throw new QmError('ESIGNATURE', `${url} is not the key ${fingerprint} (it holds ${found.join(', ') || 'no key'})`, { url });
          return armoredKey;
        } catch (error) {
          this.logger.warn(`Could not load ${tool}'s release key ${fingerprint}: ${(error as Error).message}`);
          return undefined;
        }
      }),
    );
    const keys = fetched.filter((key): key is string => key !== undefined);
    if (keys.length === 0) throw new QmError('ESIGNATURE', `None of ${tool}'s release keys could be loaded, so its signature cannot be checked`);
    return keys;
  }

  private minisignKeysFor(tool: SigningTool): Promise<MinisignKey[]> {
    let keys = this.minisignKeys.get(tool);
    if (!keys) {
      keys = this.loadMinisignKeys(tool);
      this.minisignKeys.set(tool, keys);
      keys.catch(() => this.minisignKeys.delete(tool));
    }
    return keys;
  }

  private async loadMinisignKeys(tool: SigningTool): Promise<MinisignKey[]> {
    const file = this.policy.keyFiles[tool];
    if (file) return parseMinisignKeys(await readKeyFile(file, tool), file);
    const trust = this.trust[tool];
    if (trust?.kind !== 'minisign') throw new QmError('ESIGNATURE', `No minisign key is trusted for ${tool}: set QM_KEYS_${tool.toUpperCase()}`);
    return parseMinisignKeys(trust.publicKeys.join('\n'), `${tool}'s published key`);
  }
}

async function readKeyFile(file: string, tool: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new QmError('EUSAGE', `QM_KEYS_${tool.toUpperCase()}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { path: file, cause: error });
  }
}
