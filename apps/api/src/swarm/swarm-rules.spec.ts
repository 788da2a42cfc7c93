import { PERSONA_IDS } from '@app/contracts';
import { PERSONAS } from './personas/personas.constants';
import { answerProblem } from './questions/questions.service';
import { parseSpawnList } from './swarm.service';

describe('answerProblem', () => {
  const options = ['yes', 'no', 'later'];
  it('accepts exactly one option for single choice, several distinct for multiple', () => {
    expect(answerProblem(options, false, ['yes'])).toBeNull();
    expect(answerProblem(options, true, ['yes', 'later'])).toBeNull();
  });
  it('refuses empty, several on single choice, repeats and unknown options', () => {
    expect(answerProblem(options, false, [])).toMatch(/at least one/);
    expect(answerProblem(options, false, ['yes', 'no'])).toMatch(/exactly one/);
    expect(answerProblem(options, true, ['yes', 'yes'])).toMatch(/repeats/);
    expect(answerProblem(options, true, ['yes', 'maybe'])).toMatch(/"maybe"/);
  });
});

describe('parseSpawnList', () => {
  it('splits, trims, lowercases, dedupes and separates unknown ids', () => {
    expect(parseSpawnList(' Echo, forge,,echo , zorro')).toEqual({ known: ['echo', 'forge'], unknown: ['zorro'] });
    expect(parseSpawnList('')).toEqual({ known: [], unknown: [] });
  });
});

describe('PERSONAS', () => {
  it('are the nine prototype personas with 10-15 lowercase keywords each', () => {
    expect(PERSONAS.map((p) => p.id)).toEqual([...PERSONA_IDS]);
    for (const p of PERSONAS) {
      expect(p.preferredKeywords.length).toBeGreaterThanOrEqual(10);
      expect(p.preferredKeywords.length).toBeLessThanOrEqual(15);
      expect(p.preferredKeywords.every((k) => k === k.toLowerCase())).toBe(true);
      expect(new Set(p.preferredKeywords).size).toBe(p.preferredKeywords.length);
    }
  });
});
