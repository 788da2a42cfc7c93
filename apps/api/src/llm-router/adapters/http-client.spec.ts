import { Readable } from 'node:stream';
import { lines, sseEvents } from './http-client';

/** A response body delivered in the given network chunks. */
const body = (...chunks: Buffer[]) => Readable.from(chunks);

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('http-client stream parsing', () => {
  const euro = Buffer.from('{"t":"€"}\n', 'utf8'); // € is 3 bytes: split it across two chunks

  it('NDJSON lines survive a multi-byte character split between chunks', async () => {
    const got = await collect(lines(body(euro.subarray(0, 7), euro.subarray(7), Buffer.from('{"t":"x"}'))));
    expect(got).toEqual(['{"t":"€"}', '{"t":"x"}']);
  });

  it('SSE events: blank line ends an event, comments skipped, split characters intact, a cut last line ignored', async () => {
    const raw = Buffer.from(': ping\nevent: delta\ndata: {"t":"€"}\n\ndata: [DONE]\n\ndata: {"cut', 'utf8');
    const at = raw.indexOf(Buffer.from('€')) + 1;
    const got = await collect(sseEvents(body(raw.subarray(0, at), raw.subarray(at))));
    expect(got).toEqual([
      { event: 'delta', data: '{"t":"€"}' },
      { event: null, data: '[DONE]' },
    ]);
  });
});
