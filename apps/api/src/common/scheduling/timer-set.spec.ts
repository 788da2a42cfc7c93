import { TimerSet } from './timer-set';

describe(TimerSet.name, () => {
  // a fake clock (timers and Date): the assertions hold whatever the machine's load
  beforeEach(() => jest.useFakeTimers({ now: 1_764_000_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('fires at the absolute time, re-arming replaces, clear cancels', () => {
    const sut = new TimerSet();
    const fired: string[] = [];
    const start = Date.now();
    sut.arm('a', start + 60, () => fired.push(`a@${Date.now() - start}`));
    sut.arm('b', start + 20, () => fired.push('b-old'));
    sut.arm('b', start + 30, () => fired.push('b'));
    sut.arm('c', start + 10, () => fired.push('c'));
    sut.clear('c');
    expect(sut.size).toBe(2);
    jest.advanceTimersByTime(120);
    expect(fired[0]).toBe('b');
    expect(fired[1]).toMatch(/^a@/);
    expect(Number(fired[1].slice(2))).toBeGreaterThanOrEqual(60);
    expect(fired).toHaveLength(2);
    expect(sut.size).toBe(0);
  });

  it('re-arms when the clock says it is still early', () => {
    let offset = -50;
    const sut = new TimerSet(() => Date.now() + offset);
    let fired = 0;
    sut.arm('x', Date.now() + 10 + offset, () => fired++);
    offset = -100; // the clock went back: the first expiry is early and re-arms
    jest.advanceTimersByTime(30);
    expect(fired).toBe(0);
    expect(sut.has('x')).toBe(true);
    jest.advanceTimersByTime(80);
    expect(fired).toBe(1);
    sut.clearAll();
  });
});
