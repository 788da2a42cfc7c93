import type { Principal } from '@app/contracts';
import { canReadEvent, decideAccess, hiddenChannels, publicRoom } from './access-policy';

const p = (role: Principal['role'], agentId: string | null = null): Principal => ({
  kind: 'api_key',
  userId: null,
  username: null,
  role,
  agentId,
  apiKeyId: 'k',
});

describe('decideAccess', () => {
  it('lets operators read everything', () => {
    for (const c of ['all', 'ledger', 'security', 'swarm', 'task:abc', 'agent:x', 'mobile']) {
      expect(decideAccess(p('operator'), c)).toEqual({ ok: true, room: c });
    }
  });

  it('keeps viewers out of ledger and security, and serves every mixed channel from its public room', () => {
    expect(decideAccess(p('viewer'), 'ledger')).toMatchObject({ ok: false, code: 'realtime/forbidden' });
    expect(decideAccess(p('viewer'), 'security')).toMatchObject({ ok: false, code: 'realtime/forbidden' });
    for (const c of ['all', 'mobile', 'task:t1', 'agent:a1']) expect(decideAccess(p('viewer'), c)).toEqual({ ok: true, room: publicRoom(c) });
    expect(decideAccess(p('viewer'), 'swarm')).toEqual({ ok: true, room: 'swarm' });
  });

  it('one event rule for every path: privileged channels only for admin and operator', () => {
    for (const role of ['viewer', 'agent'] as const) {
      expect(canReadEvent(p(role), { channel: 'ledger' })).toBe(false);
      expect(canReadEvent(p(role), { channel: 'security' })).toBe(false);
      expect(canReadEvent(p(role), { channel: 'swarm' })).toBe(true);
      expect(hiddenChannels(p(role))).toEqual(['ledger', 'security']);
    }
    for (const role of ['admin', 'operator'] as const) {
      expect(canReadEvent(p(role), { channel: 'security' })).toBe(true);
      expect(hiddenChannels(p(role))).toEqual([]);
    }
  });

  it('limits agents to swarm, questions, tasks and their own channel', () => {
    expect(decideAccess(p('agent', 'a1'), 'agent:a1')).toEqual({ ok: true, room: publicRoom('agent:a1') });
    expect(decideAccess(p('agent', 'a1'), 'agent:a2')).toMatchObject({ ok: false });
    expect(decideAccess(p('agent', 'a1'), 'all')).toMatchObject({ ok: false });
    expect(decideAccess(p('agent', 'a1'), 'task:t1')).toEqual({ ok: true, room: publicRoom('task:t1') });
    expect(decideAccess(p('agent', 'a1'), 'swarm')).toEqual({ ok: true, room: 'swarm' });
  });

  it('rejects malformed channels', () => {
    for (const c of [undefined, 42, '', 'nope', 'task:', 'task:../x', 'x'.repeat(200), { channel: 'all' }]) {
      expect(decideAccess(p('admin'), c)).toMatchObject({ ok: false, code: 'realtime/bad_channel' });
    }
  });
});
