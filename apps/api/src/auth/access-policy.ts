import { parseChannel, PRIVILEGED_CHANNELS, type DomainChannel, type EventEnvelope, type Principal, type Role } from '@app/contracts';

/**
 * The one read rule for events, used by REST (`/api/events` list/get/export/summary) and realtime (`/live`
 * subscribe, replay and every room) alike: only admins and operators read privileged domain channels
 * (`ledger`, `security`); viewers and agents never receive such an event on any path (`all`, `mobile`,
 * `task:<id>`, `agent:<id>`, a page, an export, a count).
 */
export function readsPrivileged(role: Role): boolean {
  return role === 'admin' || role === 'operator';
}

/** True when `principal` may read the event (its domain channel). */
export function canReadEvent(principal: Pick<Principal, 'role'>, e: Pick<EventEnvelope, 'channel'>): boolean {
  return readsPrivileged(principal.role) || !PRIVILEGED_CHANNELS.includes(e.channel);
}

/** Domain channels a principal must not see; merge into every log filter (`excludeChannels`). */
export function hiddenChannels(principal: Pick<Principal, 'role'>): readonly DomainChannel[] {
  return readsPrivileged(principal.role) ? [] : PRIVILEGED_CHANNELS;
}

/** Suffix of the room variant that carries only non-privileged events (what `all`, `task:x`, ... mean for viewers and agents). */
export const PUBLIC_ROOM_SUFFIX = '|public';

/** The public variant of a room. */
export function publicRoom(room: string): string {
  return room + PUBLIC_ROOM_SUFFIX;
}

export type AccessDecision =
  | { ok: true; room: string }
  | { ok: false; code: 'realtime/bad_channel' | 'realtime/forbidden'; message: string };

/**
 * Decides whether `principal` may subscribe to `channel` and which Socket.IO room serves it.
 * - admin/operator: every channel, each served by its full room;
 * - viewer: every channel but ledger/security; `all`, `mobile`, `task:<id>` and `agent:<id>` are served by their
 *   public room variants (no privileged event ever reaches them);
 * - agent: `swarm`, `questions`, `task:<id>` and its own `agent:<id>` (public variants for the last two).
 */
export function decideAccess(principal: Principal, channel: unknown): AccessDecision {
  const parsed = parseChannel(channel);
  if (!parsed) return { ok: false, code: 'realtime/bad_channel', message: `Unknown channel ${JSON.stringify(channel)?.slice(0, 80)}` };
  const name = channel as string;
  const deny = (why: string): AccessDecision => ({ ok: false, code: 'realtime/forbidden', message: `${principal.role} may not read ${name}: ${why}` });
  const mixed = parsed.kind !== 'static' || parsed.channel === 'all' || parsed.channel === 'mobile';
  const room = readsPrivileged(principal.role) || !mixed ? name : publicRoom(name);
  switch (principal.role) {
    case 'admin':
    case 'operator':
      return { ok: true, room };
    case 'viewer':
      if (parsed.kind === 'static' && PRIVILEGED_CHANNELS.includes(parsed.channel as DomainChannel)) return deny('operator-only channel');
      return { ok: true, room };
    case 'agent':
      if (parsed.kind === 'task') return { ok: true, room };
      if (parsed.kind === 'agent') return parsed.id === principal.agentId ? { ok: true, room } : deny('another agent');
      if (parsed.kind === 'static' && (parsed.channel === 'swarm' || parsed.channel === 'questions')) return { ok: true, room };
      return deny('agents read swarm, questions, task:<id> and their own agent:<id>');
    default:
      return deny('unknown role');
  }
}
