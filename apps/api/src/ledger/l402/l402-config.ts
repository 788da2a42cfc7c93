/**
 * L402 configuration (issue 8): which routes are priced and at what price.
 *
 * `L402_ROUTES` is a comma-separated list of `<service>:<price in sats>`, e.g. `tasks:1000,chat:50`. Unset or empty =
 * L402 is off everywhere and every route keeps its ordinary authentication. `L402_TOKEN_TTL_S` (seconds) is how long
 * a token (and its invoice) is valid after the 402 that issued it.
 */

/** Services (priced route names) the API knows; each is attached to one route with `@L402Priced(<service>)`. */
export const L402_SERVICES = ['tasks', 'chat'] as const;
export type L402ServiceName = (typeof L402_SERVICES)[number];

/** Highest accepted price of one call, sats (the ledger's amounts are msat: price * 1000). */
export const L402_MAX_PRICE_SATS = 1_000_000;

/** Token / invoice lifetime bounds (seconds): the ledger accepts invoice expiries of 60 s .. 7 days. */
export const L402_MIN_TTL_S = 60;
export const L402_MAX_TTL_S = 7 * 24 * 3600;
export const L402_DEFAULT_TTL_S = 3600;

/**
 * Parses `L402_ROUTES` into service -> price in **sats**. Blank = an empty map (L402 off).
 * @throws Error naming the bad entry: not `<service>:<integer sats>`, an unknown service (see L402_SERVICES), a price
 *   outside 1..L402_MAX_PRICE_SATS, or a service listed twice. validateEnv calls this, so a bad value stops the boot.
 */
export function parseL402Routes(raw: string | undefined | null): Map<L402ServiceName, number> {
  const out = new Map<L402ServiceName, number>();
  if (raw === undefined || raw === null || raw.trim() === '') return out;
  for (const part of raw.split(',')) {
    const entry = part.trim();
    const m = /^([a-z][a-z0-9_-]*):(\d+)$/.exec(entry);
    if (!m) throw new Error(`L402_ROUTES entry "${entry.slice(0, 60)}" is not <service>:<price in sats>`);
    const [, name, priceText] = m;
    if (!(L402_SERVICES as readonly string[]).includes(name)) throw new Error(`L402_ROUTES: unknown service "${name}" (known: ${L402_SERVICES.join(', ')})`);
    const price = Number(priceText);
    if (!Number.isSafeInteger(price) || price < 1 || price > L402_MAX_PRICE_SATS) throw new Error(`L402_ROUTES: price of ${name} must be 1..${L402_MAX_PRICE_SATS} sats`);
    if (out.has(name as L402ServiceName)) throw new Error(`L402_ROUTES: service ${name} is listed twice`);
    out.set(name as L402ServiceName, price);
  }
  return out;
}
