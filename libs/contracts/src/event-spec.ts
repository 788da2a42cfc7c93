/**
 * The building blocks of the event catalogue, with no runtime imports (domain catalogue files import these).
 */

/** Domain channels stored in `event_log.channel`. `ledger` and `security` are privileged (PRIVILEGED_CHANNELS). */
export const DOMAIN_CHANNELS = [
  'swarm',
  'questions',
  'system',
  'security',
  'ledger',
  'memory',
  'router',
  'upgrades',
] as const;
export type DomainChannel = (typeof DOMAIN_CHANNELS)[number];

/**
 * Channels whose events only admins and operators may read, on every path (REST list/get/export/summary and every
 * realtime room, including `all`, `mobile`, `task:<id>` and `agent:<id>`).
 */
export const PRIVILEGED_CHANNELS: readonly DomainChannel[] = ['ledger', 'security'];

/** What the catalogue says about one event type. */
export interface EventSpec {
  /** The domain channel the type is written to (`event_log.channel`). */
  readonly channel: DomainChannel;
  /** Carried by the conflated `mobile` digest. */
  readonly mobile?: boolean;
  /** An agent (or operator script) may append it through `POST /api/events`. */
  readonly ingestible?: boolean;
}

/**
 * One spec per key of a data map, no more and no fewer: use as `{ ... } as const satisfies EventSpecs<MyDataMap>`
 * so a type without routing (or routing for an unknown type) fails to compile.
 */
export type EventSpecs<M> = { readonly [K in keyof M]: EventSpec };

/** Payload of a type that carries nothing (`{}` on the wire). */
export type EmptyData = Record<string, never>;
