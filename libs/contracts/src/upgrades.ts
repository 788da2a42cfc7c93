/**
 * Upgrade-queue wire types (module `upgrade-queue`, channel `upgrades`). Event payloads are declared here and merged
 * into the catalogue by `events.ts`.
 */
import type { EventSpecs } from './event-spec';

/** `upgrade.*` event payloads (type -> data). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface UpgradeEventDataMap {}

/** Channel routing of the upgrade queue's event types. */
export const UPGRADE_EVENT_SPECS = {} as const satisfies EventSpecs<UpgradeEventDataMap>;
