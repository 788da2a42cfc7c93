import { DOMAIN_CHANNELS, type DomainChannel } from './event-spec';

/**
 * Realtime channels (Socket.IO rooms). `all` carries every event, `mobile` a conflated digest,
 * `task:<id>` / `agent:<id>` every event of one task / agent; the rest are domain channels.
 */
export type StaticChannel = 'all' | 'mobile' | DomainChannel;
export type Channel = StaticChannel | `task:${string}` | `agent:${string}`;

export const STATIC_CHANNELS: readonly StaticChannel[] = ['all', 'mobile', ...DOMAIN_CHANNELS];

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses a channel name; returns null when it is not a valid channel. */
export function parseChannel(
  value: unknown,
): { kind: 'static'; channel: StaticChannel } | { kind: 'task' | 'agent'; id: string } | null {
  if (typeof value !== 'string' || value.length > 80) return null;
  if ((STATIC_CHANNELS as readonly string[]).includes(value)) {
    return { kind: 'static', channel: value as StaticChannel };
  }
  const colon = value.indexOf(':');
  if (colon < 0) return null;
  const prefix = value.slice(0, colon);
  const id = value.slice(colon + 1);
  if ((prefix === 'task' || prefix === 'agent') && ID_RE.test(id)) return { kind: prefix, id };
  return null;
}
