import type { Principal } from '@app/contracts';
import { ALL_PUBLIC_ROOM, decideAccess } from './channel-access.util';

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

  it('keeps viewers out of ledger and security, and serves them all:public', () => {
    expect(decideAccess(p('viewer'), 'ledger')).toMatchObject({ ok: false, code: 'realtime/forbidden' });
    expect(decideAccess(p('viewer'), 'security')).toMatchObject({ ok: false, code: 'realtime/forbidden' });
    expect(decideAccess(p('viewer'), 'all')).toEqual({ ok: true, room: ALL_PUBLIC_ROOM });
    expect(decideAccess(p('viewer'), 'swarm')).toEqual({ ok: true, room: 'swarm' });
  });

  it('limits agents to swarm, questions, tasks and their own channel', () => {
    expect(decideAccess(p('agent', 'a1'), 'agent:a1')).toEqual({ ok: true, room: 'agent:a1' });
    expect(decideAccess(p('agent', 'a1'), 'agent:a2')).toMatchObject({ ok: false });
    expect(decideAccess(p('agent', 'a1'), 'all')).toMatchObject({ ok: false });
    expect(decideAccess(p('agent', 'a1'), 'task:t1')).toEqual({ ok: true, room: 'task:t1' });
  });

  it('rejects malformed channels', () => {
    for (const c of [undefined, 42, '', 'nope', 'task:', 'task:../x', 'x'.repeat(200), { channel: 'all' }]) {
      expect(decideAccess(p('admin'), c)).toMatchObject({ ok: false, code: 'realtime/bad_channel' });
    }
  });
});
