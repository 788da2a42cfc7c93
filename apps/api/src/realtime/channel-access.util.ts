import { parseChannel, type Principal } from '@app/contracts';

/** Domain channels only admins and operators may read (viewers never see ledger details or security events). */
export const PRIVILEGED_CHANNELS: readonly string[] = ['ledger', 'security'];

/** Room that carries every event except PRIVILEGED_CHANNELS: what `all` means for a viewer. */
export const ALL_PUBLIC_ROOM = 'all:public';

export type AccessDecision =
  | { ok: true; room: string }
  | { ok: false; code: 'realtime/bad_channel' | 'realtime/forbidden'; message: string };

/**
 * Decides whether `principal` may subscribe to `channel` and which Socket.IO room serves it.
 * - admin/operator: every channel;
 * - viewer: every channel but ledger/security (`all` is served by the `all:public` room);
 * - agent: `swarm`, `questions`, `task:<id>`, and its own `agent:<id>`.
 */
export function decideAccess(principal: Principal, channel: unknown): AccessDecision {
  const parsed = parseChannel(channel);
  if (!parsed) return { ok: false, code: 'realtime/bad_channel', message: `Unknown channel ${JSON.stringify(channel)?.slice(0, 80)}` };
  const name = channel as string;
  const deny = (why: string): AccessDecision => ({ ok: false, code: 'realtime/forbidden', message: `${principal.role} may not read ${name}: ${why}` });
  switch (principal.role) {
    case 'admin':
    case 'operator':
      return { ok: true, room: name };
    case 'viewer':
      if (parsed.kind === 'static' && PRIVILEGED_CHANNELS.includes(parsed.channel)) return deny('operator-only channel');
      return { ok: true, room: name === 'all' ? ALL_PUBLIC_ROOM : name };
    case 'agent':
      if (parsed.kind === 'task') return { ok: true, room: name };
      if (parsed.kind === 'agent') return parsed.id === principal.agentId ? { ok: true, room: name } : deny('another agent');
      if (parsed.kind === 'static' && (parsed.channel === 'swarm' || parsed.channel === 'questions')) return { ok: true, room: name };
      return deny('agents read swarm, questions, task:<id> and their own agent:<id>');
    default:
      return deny('unknown role');
  }
}
