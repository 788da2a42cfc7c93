import { loadConfig } from '../config/app-config';
import { redisKeyPrefix } from './realtime-io.adapter';

describe('redisKeyPrefix (REDIS_PREFIX)', () => {
  it('is mc:<epoch> by default, so instances on one database share it and other deployments do not', () => {
    expect(redisKeyPrefix(undefined, '3f1c')).toBe('mc:3f1c');
    expect(redisKeyPrefix('', 'e2')).toBe('mc:e2');
    expect(redisKeyPrefix(undefined, 'a')).not.toBe(redisKeyPrefix(undefined, 'b'));
  });

  it('uses REDIS_PREFIX when set', () => {
    expect(redisKeyPrefix('prod-eu', 'ignored')).toBe('prod-eu');
  });

  it('refuses to derive a prefix without an epoch', () => {
    expect(() => redisKeyPrefix(undefined, '')).toThrow(/REDIS_PREFIX/);
  });

  it('the config accepts a plain name and refuses spaces, braces and over-long names', () => {
    expect(loadConfig({ REDIS_PREFIX: 'mc:prod_1.eu-west' }).REDIS_PREFIX).toBe('mc:prod_1.eu-west');
    for (const bad of ['has space', 'a{b}', 'x'.repeat(101)]) expect(() => loadConfig({ REDIS_PREFIX: bad })).toThrow(/REDIS_PREFIX/);
  });
});
