import { startFake } from '../support/fakes/fake-llm-server';
import http from 'node:http';
it('debug', async () => {
  const f = await startFake('ollama');
  f.reply = 'one two three four five six';
  f.fail({ kind: 'cutStream', afterChunks: 2 });
  const text = await new Promise<string>((resolve) => {
    const req = http.request(`${f.url}/api/chat`, { method: 'POST' }, (res) => {
      let t = '';
      res.on('data', (c) => (t += c));
      res.on('end', () => resolve('END ' + t));
      res.on('error', (e) => resolve('ERR ' + e.message + ' ' + t));
      res.on('aborted', () => resolve('ABORTED ' + t));
    });
    req.end(JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'hi' }], stream: true }));
  });
  console.log(text, f.chatCount);
  await f.stop();
});
