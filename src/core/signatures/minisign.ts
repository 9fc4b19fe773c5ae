import { createHash, createPublicKey, verify } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { QmError } from '../errors';

/** A minisign public key: its 8-byte id and the raw Ed25519 key. */
export interface MinisignKey {
  id: Buffer;
  key: Buffer;
}

interface MinisignSignature {
  /** "ED": the signature is over the file's BLAKE2b-512 (minisign's default since 0.8); "Ed": over the file. */
  prehashed: boolean;
  keyId: Buffer;
  signature: Buffer;
  trustedComment: string;
  globalSignature: Buffer;
}

/**
 * Reads a public key as minisign writes it: the base64 line ("RWS..."), alone or after an
 * `untrusted comment:` line. Several keys may be given, one per line.
 */
export function parseMinisignKeys(text: string, source: string): MinisignKey[] {
  const keys: MinisignKey[] = [];
  for (const line of text.split(/\r?\n/).map((l) => l.trim())) {
    if (line === '' || line.startsWith('untrusted comment:') || line.startsWith('#')) continue;
    const raw = Buffer.from(line, 'base64');
    if (raw.length !== 42 || raw.subarray(0, 2).toString('latin1') !== 'Ed') {
      throw new QmError('EUSAGE', `${source}: "${line.slice(0, 60)}" is not a minisign public key (base64 of "Ed", an 8-byte id and a 32-byte key)`, { found: line });
    }
    keys.push({ id: raw.subarray(2, 10), key: raw.subarray(10) });
  }
  if (keys.length === 0) throw new QmError('EUSAGE', `${source} holds no minisign public key`);
  return keys;
}

function parseSignature(text: string, url: string): MinisignSignature {
  const bad = (why: string): QmError => new QmError('ESIGNATURE', `The signature at ${url} is malformed: ${why}`, { url });
  const lines = text.split(/\r?\n/);
  if (!lines[0]?.startsWith('untrusted comment:')) throw bad('it does not start with "untrusted comment:"');
  const first = Buffer.from(lines[1]?.trim() ?? '', 'base64');
  if (first.length !== 74) throw bad('the signature line is not 74 bytes of base64');
  const algorithm = first.subarray(0, 2).toString('latin1');
  if (algorithm !== 'Ed' && algorithm !== 'ED') throw bad(`unknown algorithm "${algorithm}"`);
  const trusted = lines[2] ?? '';
  if (!trusted.startsWith('trusted comment: ')) throw bad('there is no "trusted comment:" line');
  const globalSignature = Buffer.from(lines[3]?.trim() ?? '', 'base64');
  if (globalSignature.length !== 64) throw bad('the global signature is not 64 bytes of base64');
  return {
    prehashed: algorithm === 'ED',
    keyId: first.subarray(2, 10),
    signature: first.subarray(10),
    trustedComment: trusted.slice('trusted comment: '.length),
    globalSignature,
  };
}

function ed25519(key: Buffer, message: Buffer, signature: Buffer): boolean {
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.toString('base64url') }, format: 'jwk' });
  return verify(null, message, publicKey, signature);
}

async function digestFile(file: string, algorithm: 'blake2b512'): Promise<Buffer> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest();
}

async function readWhole(file: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of createReadStream(file)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Checks `file` against a .minisig document with one of `keys`: the key id must match, the
 * signature must hold over the file (or its BLAKE2b-512 for "ED"), and the global signature over
 * the signature and the trusted comment, as minisign -V does. Returns the trusted comment;
 * throws ESIGNATURE naming the URL otherwise.
 */
export async function verifyMinisign(file: string, signatureText: string, keys: readonly MinisignKey[], url: string): Promise<string> {
  const signature = parseSignature(signatureText, url);
  const key = keys.find((candidate) => candidate.id.equals(signature.keyId));
  if (!key) {
    throw new QmError('ESIGNATURE', `The signature at ${url} was made by key ${hexId(signature.keyId)}, which is not trusted (trusted: ${keys.map((k) => hexId(k.id)).join(', ')})`, { url });
  }
  const message = signature.prehashed ? await digestFile(file, 'blake2b512') : await readWhole(file);
  if (!ed25519(key.key, message, signature.signature)) {
    throw new QmError('ESIGNATURE', `The signature at ${url} does not match the downloaded file: it was not signed by key ${hexId(key.id)}`, { url });
  }
  const global = Buffer.concat([signature.signature, Buffer.from(signature.trustedComment, 'utf8')]);
  if (!ed25519(key.key, global, signature.globalSignature)) {
    throw new QmError('ESIGNATURE', `The trusted comment of the signature at ${url} was altered`, { url });
  }
  return signature.trustedComment;
}

/** minisign shows key ids as 16 upper-case hex digits of the little-endian id. */
function hexId(id: Buffer): string {
  return Buffer.from(id).reverse().toString('hex').toUpperCase();
}
