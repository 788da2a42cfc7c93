/**
 * Memory wire types (module `memory`, channel `memory`). Event payloads are declared here and merged into the
 * catalogue by `events.ts`.
 */
import type { EventSpecs } from './event-spec';

/** `memory.*` event payloads (type -> data). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface MemoryEventDataMap {}

/** Channel routing of the memory module's event types. */
export const MEMORY_EVENT_SPECS = {} as const satisfies EventSpecs<MemoryEventDataMap>;
