/**
 * Types of the `macaroon` npm package (3.0.4, go-macaroon compatible; it ships no typings). Only what L402 uses.
 * Byte strings are `Uint8Array`; a `string` identifier / root key / caveat is taken as its UTF-8 bytes.
 */
declare module 'macaroon' {
  export interface MacaroonCaveat {
    identifier: Uint8Array;
    location?: string;
    vid?: Uint8Array;
  }

  export interface Macaroon {
    readonly identifier: Uint8Array;
    readonly location: string | undefined;
    readonly signature: Uint8Array;
    readonly caveats: MacaroonCaveat[];
    addFirstPartyCaveat(caveatId: string | Uint8Array): void;
    /**
     * Checks the HMAC chain from `rootKey`; `check(condition)` is called for each first-party caveat and returns an
     * error text (refuse) or null/undefined (accept). @throws Error on a failed caveat or a signature mismatch.
     */
    verify(rootKey: Uint8Array, check: (condition: string) => string | null | undefined, discharges?: Macaroon[]): void;
    exportBinary(): Uint8Array;
    exportJSON(): unknown;
  }

  export function newMacaroon(params: { identifier: string | Uint8Array; location?: string; rootKey: string | Uint8Array; version?: 1 | 2 }): Macaroon;
  /** A base64 (std or URL-safe, padding optional) binary V2 macaroon, its bytes, or its JSON form. @throws Error. */
  export function importMacaroon(obj: string | Uint8Array | object): Macaroon;
  /** URL-safe, unpadded base64. */
  export function bytesToBase64(bytes: Uint8Array): string;
  export function base64ToBytes(s: string): Uint8Array;
}
