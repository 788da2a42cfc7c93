/**
 * Text handling shared by the lexical query builder and the hashing embedder: lowercase ASCII-folded word tokens and
 * an English stop-word list (the classic SMART/NLTK core set). Kept small on purpose: BM25's IDF does the rest.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can did do does doing down during each few for from further had has have having he her here hers herself him himself ' +
    'his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours ' +
    'ourselves out over own same she should so some such than that the their theirs them themselves then there these they ' +
    'this those through to too under until up very was we were what when where which while who whom why will with you your ' +
    'yours yourself yourselves would could also ever s t d ll m re ve y'
  ).split(' '),
);

/** Lowercase word tokens ([a-z0-9]+ after NFKD folding of diacritics). */
export function wordTokens(text: string): string[] {
  return (
    text
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .match(/[a-z0-9]+/g) ?? []
  );
}

/** Tokens without stop words. */
export function contentTokens(text: string): string[] {
  return wordTokens(text).filter((w) => !STOP_WORDS.has(w));
}
