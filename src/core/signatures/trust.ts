import type { SigningTool } from './policy';

export type BuiltInTrust =
  | {
      kind: 'pgp';
      /** Primary key fingerprints, upper-case hex: what is trusted. */
      fingerprints: readonly string[];
      /** Where a key is fetched from (mirrored like any GitHub URL); its fingerprint must be pinned above. */
      keyUrl(fingerprint: string): string;
    }
  | { kind: 'minisign'; publicKeys: readonly string[] };

/**
 * What each upstream signs with, as published by the upstream itself: Node.js's releasers'
 * keys (nodejs/release-keys, active and retired), Zig's minisign key (ziglang.org/download).
 * Bun signs SHASUMS256.txt.asc but publishes no fingerprint to pin: its key is configured with
 * QM_KEYS_BUN (docs/providers.md).
 */
export const BUILT_IN_TRUST: Readonly<Partial<Record<SigningTool, BuiltInTrust>>> = Object.freeze({
  node: {
    kind: 'pgp',
    fingerprints: [
      'C0D6248439F1D5604AAFFB4021D900FFDB233756',
      'DD792F5973C6DE52C432CBDAC77ABFA00DDBF2B7',
      'CC68F5A3106FF448322E48ED27F5E38D5B0A215F',
      '8FCCA13FEF1D0C2E91008E09770F7A9A5AE15600',
      '890C08DB8579162FEE0DF9DB8BEAB4DFCF555EF4',
      'C82FA3AE1CBEDC6BE46B9360C43CEC45C17AB93C',
      '108F52B48DB57BB0CC439B2997B01419BD92F80A',
      'A363A499291CBBC940DD62E41F10027AF002F8B0',
      '4ED778F539E3634C779C87C6D7062848A1AB005C',
      '141F07595B7B3FFE74309A937405533BE57C7D57',
      '74F12602B6F1C4E913FAA37AD3A89613643B6201',
      '94AE36675C464D64BAFA68DD7434390BDBE9B9C5',
      '71DCFD284A79C3B38668286BC97EC7A07EDE3FC1',
      'DD8F2338BAE7501E3DD5AC78C273792F7D83545D',
      'A48C2BEE680E841632CD4E44F07496B3EB3C1762',
      'C4F0DFFF4E8C1A8236409D08E73BC641CC11F4C8',
    ],
    keyUrl: (fingerprint) => `https://raw.githubusercontent.com/nodejs/release-keys/HEAD/keys/${fingerprint}.asc`,
  },
  zig: { kind: 'minisign', publicKeys: ['RWSGOq2NVecA2UPNdBUZykf1CCb147pkmdtYxgb3Ti+JO/wCYvhbAb/U'] },
});
