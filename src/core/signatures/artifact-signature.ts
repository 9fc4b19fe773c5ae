/** A detached signature over the downloaded archive itself, checked before anything is published. */
export interface ArtifactSignature {
  /** Zig's minisign: Ed25519 over the file, or over its BLAKE2b-512 ("ED", prehashed). */
  kind: 'minisign';
  /** Where the signature is published (beside the archive: `<url>.minisig`). */
  url: string;
  /** Whose keys apply (QM_KEYS_<TOOL>, else the tool's published key). */
  tool: string;
}
