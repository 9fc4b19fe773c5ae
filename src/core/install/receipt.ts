import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { ResolvedToolchain } from '../providers/types';
import { writeFileAtomic } from '../store/atomic-write';

/** Written last into a published toolchain: its presence is what "installed" means. */
export interface Receipt {
  tool: string;
  version: string;
  upstreamVersion: string;
  platform: string;
  url: string;
  sha256: string;
  size: number;
  binDirs: string[];
  executables: string[];
  /** Variables relative to the tree (Java's JAVA_HOME), set wherever the toolchain is used. */
  env?: Record<string, string>;
  /** A toolchain of several archives (Rust): each one's digest, so gc keeps their blobs with the tree. */
  components?: Array<{ name: string; sha256: string }>;
  installedAt: string;
}

export const RECEIPT_FILE = '.qm-receipt.json';

export function receiptPath(toolchainDir: string): string {
  return path.join(toolchainDir, RECEIPT_FILE);
}

export async function readReceipt(toolchainDir: string): Promise<Receipt | undefined> {
  try {
    const receipt = JSON.parse(await fs.readFile(receiptPath(toolchainDir), 'utf8')) as Receipt;
    return typeof receipt.sha256 === 'string' && Array.isArray(receipt.binDirs) ? receipt : undefined;
  } catch {
    return undefined;
  }
}

export function receiptFor(toolchain: ResolvedToolchain, size: number): Receipt {
  return {
    tool: toolchain.tool,
    version: toolchain.version,
    upstreamVersion: toolchain.upstreamVersion,
    platform: toolchain.platform,
    url: toolchain.url,
    sha256: toolchain.sha256,
    size,
    binDirs: toolchain.binDirs,
    executables: toolchain.executables,
    ...(toolchain.env ? { env: toolchain.env } : {}),
    ...(toolchain.components ? { components: toolchain.components.map(({ name, sha256 }) => ({ name, sha256 })) } : {}),
    installedAt: new Date().toISOString(),
  };
}

/** Atomic and durable. */
export async function writeReceipt(toolchainDir: string, receipt: Receipt): Promise<void> {
  await writeFileAtomic(receiptPath(toolchainDir), `${JSON.stringify(receipt, null, 2)}\n`, { action: 'write receipt' });
}
