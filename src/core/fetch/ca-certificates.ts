import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { QmError } from '../errors';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Node 22.15+ can list its default CAs, NODE_EXTRA_CA_CERTS included; Node 20 cannot. */
type GetCACertificates = (type?: 'default' | 'bundled' | 'extra' | 'system') => string[];

/**
 * The CAs to trust when an extra bundle is configured (QM_CA_CERTS, quartermaster.caCertificates),
 * or undefined to leave Node's defaults alone. Giving TLS a `ca` list replaces Node's defaults,
 * NODE_EXTRA_CA_CERTS included, so the list is rebuilt: Node's defaults as Node reports them, or
 * on Node 20 its bundled roots plus the NODE_EXTRA_CA_CERTS file read here; then the bundle.
 * An unreadable bundle, or one without a certificate, is EUSAGE naming the file.
 */
export function trustedCertificates(bundle: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  if (!bundle) return undefined;
  return [...new Set([...defaultCertificates(env), ...readBundle(bundle)])];
}

/**
 * The same list as one TLS context, built once: handing `ca` to every connection would parse
 * some 150 certificates per handshake (over 100 ms each here).
 */
export function trustedContext(bundle: string | undefined, env: NodeJS.ProcessEnv = process.env): tls.SecureContext | undefined {
  const ca = trustedCertificates(bundle, env);
  return ca && tls.createSecureContext({ ca });
}

function defaultCertificates(env: NodeJS.ProcessEnv): string[] {
  const list = (tls as { getCACertificates?: GetCACertificates }).getCACertificates;
  if (list) return list('default');
  const extra = env.NODE_EXTRA_CA_CERTS;
  let extraCertificates: string[] = [];
  try {
    if (extra) extraCertificates = certificatesIn(readFileSync(extra, 'utf8'));
  } catch {
    // Node has already warned at start-up that it could not read NODE_EXTRA_CA_CERTS.
  }
  return [...tls.rootCertificates, ...extraCertificates];
}

function readBundle(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new QmError('EUSAGE', `Cannot read the extra CA certificates at ${file} (QM_CA_CERTS / quartermaster.caCertificates): ${(error as Error).message}`, { path: file, cause: error });
  }
  const certificates = certificatesIn(text);
  if (certificates.length === 0) {
    throw new QmError('EUSAGE', `${file} (QM_CA_CERTS / quartermaster.caCertificates) holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`, { path: file });
  }
  for (const [index, pem] of certificates.entries()) {
    try {
      new X509Certificate(pem);
    } catch (error) {
      throw new QmError('EUSAGE', `Certificate ${index + 1} in ${file} (QM_CA_CERTS / quartermaster.caCertificates) does not parse: ${(error as Error).message}`, { path: file, cause: error });
    }
  }
  return certificates;
}

function certificatesIn(text: string): string[] {
  return text.match(PEM_CERTIFICATE) ?? [];
}
