import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCa {
  /** The CA's certificate (PEM file), what a client is told to trust. */
  certFile: string;
  /** A key and certificate for 127.0.0.1 and localhost, signed by this CA. */
  issue(name: string): Promise<{ key: Buffer; cert: Buffer }>;
}

/** Whether openssl is there to make certificates with; a reason to skip (visibly) when not. */
export async function opensslMissing(): Promise<string | undefined> {
  try {
    await run('openssl', ['version']);
    return undefined;
  } catch {
    return 'openssl is not installed: no certificate authority to test with';
  }
}

/** A throwaway certificate authority in `dir`, made with openssl at test time. */
export async function createTestCa(dir: string, name: string): Promise<TestCa> {
  const key = path.join(dir, `${name}-ca.key`);
  const certFile = path.join(dir, `${name}-ca.pem`);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name} test CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', key, '-out', certFile]);
  return {
    certFile,
    issue: async (server) => {
      const serverKey = path.join(dir, `${name}-${server}.key`);
      const request = path.join(dir, `${name}-${server}.csr`);
      const serverCert = path.join(dir, `${name}-${server}.pem`);
      const extensions = path.join(dir, `${name}-${server}.ext`);
      await fs.writeFile(extensions, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
      await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${server}`, '-keyout', serverKey, '-out', request]);
      await run('openssl', ['x509', '-req', '-in', request, '-CA', certFile, '-CAkey', key, '-CAcreateserial', '-days', '2', '-extfile', extensions, '-out', serverCert]);
      return { key: await fs.readFile(serverKey), cert: await fs.readFile(serverCert) };
    },
  };
}
