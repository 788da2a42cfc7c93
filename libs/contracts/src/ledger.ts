/**
 * Ledger wire types (module `ledger`, channel `ledger`, privileged). Event payloads are declared here and merged
 * into the catalogue by `events.ts`. Amounts are integer msat.
 */
import type { EventSpecs } from './event-spec';

/** `payment.*` / `invoice.*` / `hold.*` event payloads (type -> data). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface LedgerEventDataMap {}

/** Channel routing of the ledger's event types. */
export const LEDGER_EVENT_SPECS = {} as const satisfies EventSpecs<LedgerEventDataMap>;
