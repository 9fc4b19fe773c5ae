import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocuments } from 'vscode-languageserver/node';
import { manifestKind, parseManifest } from '../core/manifest/find';
import type { Manifest, ManifestKind } from '../core/manifest/types';
import { LOCK_FILE } from '../core/lockfile/qm-lock';

/** The files this server reads, by base name whatever the client's language id. */
export type DocumentKind = ManifestKind | typeof LOCK_FILE;

/** A document's file system path (for file: URIs) or its URI path (for any other scheme). */
export function uriToPath(uri: string): string {
  try {
    const url = new URL(uri);
    return url.protocol === 'file:' ? fileURLToPath(url) : decodeURIComponent(url.pathname);
  } catch {
    return uri;
  }
}

export function documentKind(uri: string): DocumentKind | undefined {
  const file = uriToPath(uri);
  return path.basename(file) === LOCK_FILE ? LOCK_FILE : manifestKind(file);
}

/** The URI of the file called `name` beside the document at `uri`. */
export function siblingUri(uri: string, name: string): string {
  try {
    return new URL(name, uri).href;
  } catch {
    return uri.slice(0, uri.lastIndexOf('/') + 1) + name;
  }
}

/**
 * The open documents the server works on, each manifest parsed once per version (parsing is
 * the costly part: about a second for a 1 MB file).
 */
export class ManifestDocuments {
  private readonly parsed = new Map<string, { version: number; manifest: Manifest }>();

  constructor(private readonly documents: TextDocuments<TextDocument>) {
    documents.onDidClose(({ document }) => this.parsed.delete(document.uri));
  }

  get(uri: string): TextDocument | undefined {
    return this.documents.get(uri);
  }

  /** The parsed manifest of an open manifest document; undefined for anything else. */
  manifest(document: TextDocument): Manifest | undefined {
    const cached = this.parsed.get(document.uri);
    if (cached?.version === document.version) return cached.manifest;
    const kind = documentKind(document.uri);
    if (kind === undefined || kind === LOCK_FILE) return undefined;
    const manifest = parseManifest(document.getText(), uriToPath(document.uri));
    this.parsed.set(document.uri, { version: document.version, manifest });
    return manifest;
  }

  /** The parsed manifest if this version was already parsed; never parses (for answers that must not wait). */
  parsedManifest(document: TextDocument): Manifest | undefined {
    const cached = this.parsed.get(document.uri);
    return cached?.version === document.version ? cached.manifest : undefined;
  }

  /** Open manifests, in the order they were opened. */
  manifests(): TextDocument[] {
    return this.documents.all().filter((document) => {
      const kind = documentKind(document.uri);
      return kind !== undefined && kind !== LOCK_FILE;
    });
  }

  /** The open qm.lock at this file system path, if the editor has it open. */
  openLock(lockPath: string): TextDocument | undefined {
    return this.documents.all().find((document) => documentKind(document.uri) === LOCK_FILE && uriToPath(document.uri) === lockPath);
  }
}
