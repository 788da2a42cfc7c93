import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/app-config';
import { createEmbedder } from './create-embedder';
import { EmbedderError } from './embedder';
import { TransformersEmbedder, transformersModelProblem } from './transformers.embedder';

/**
 * The transformers.js embedder without a real model: no small sentence-embedding ONNX model is published on the npm
 * registry (the only registry this project reaches), so these tests cover the directory checks, the fallback of the
 * chain, and what the embedder asks of the library (through an injected module), not real inference.
 */
describe(TransformersEmbedder.name, () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mc-tf-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** A directory with the layout of an exported model (files are placeholders). */
  const modelDir = (name = 'all-MiniLM-L6-v2', weights = 'model_quantized.onnx') => {
    const dir = join(root, name);
    mkdirSync(join(dir, 'onnx'), { recursive: true });
    writeFileSync(join(dir, 'config.json'), '{}');
    writeFileSync(join(dir, 'tokenizer.json'), '{}');
    writeFileSync(join(dir, 'onnx', weights), '');
    return dir;
  };

  it('names what is missing from a model directory', () => {
    expect(transformersModelProblem('')).toMatch(/MEMORY_EMBED_MODEL_DIR is not set/);
    expect(transformersModelProblem(join(root, 'nope'))).toMatch(/model directory .*nope does not exist/);
    const dir = modelDir();
    expect(transformersModelProblem(dir)).toBeNull();
    rmSync(join(dir, 'tokenizer.json'));
    expect(transformersModelProblem(dir)).toMatch(/has no tokenizer\.json/);
    const bare = join(root, 'bare');
    mkdirSync(bare);
    writeFileSync(join(bare, 'config.json'), '{}');
    writeFileSync(join(bare, 'tokenizer.json'), '{}');
    expect(transformersModelProblem(bare)).toMatch(/has no ONNX weights/);
  });

  it('the chain falls back to the hashing embedder when the model directory is missing, and says why', () => {
    const missing = join(root, 'missing-model');
    const choice = createEmbedder(loadConfig({ MEMORY_EMBEDDER: 'transformers', MEMORY_EMBED_MODEL_DIR: missing }));
    expect(choice.embedder.kind).toBe('fallback');
    expect(choice.embedder.model).toBe('hash-fnv1a-v1-384');
    expect(choice.configured).toBe('transformers');
    expect(choice.fallbackReason).toContain(missing);

    const ok = createEmbedder(loadConfig({ MEMORY_EMBEDDER: 'transformers', MEMORY_EMBED_MODEL_DIR: modelDir() }));
    expect(ok.embedder.kind).toBe('transformers');
    expect(ok.embedder.model).toBe('transformers:all-MiniLM-L6-v2');
    expect(ok.fallbackReason).toBeNull();
  });

  it('a directory removed after boot fails with a non-retryable EmbedderError and never imports the library', async () => {
    const dir = modelDir();
    const importer = jest.fn();
    const sut = new TransformersEmbedder(dir, 384, importer);
    rmSync(dir, { recursive: true });
    const err = (await sut.embed(['hello']).catch((e: unknown) => e)) as EmbedderError;
    expect(err).toBeInstanceOf(EmbedderError);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/does not exist/);
    expect(importer).not.toHaveBeenCalled();
  });

  it('loads local files only (remote models off), mean-pools, checks the dimension and splits the batch', async () => {
    const dir = modelDir('tiny-model', 'model.onnx');
    const env = { allowRemoteModels: true, allowLocalModels: false, localModelPath: '/elsewhere', useBrowserCache: true };
    const calls: { model: string; options: Record<string, unknown> }[] = [];
    const extractor = jest.fn(async (texts: string[], opts: { pooling: string; normalize: boolean }) => {
      expect(opts).toEqual({ pooling: 'mean', normalize: true });
      const data = new Float32Array(texts.length * 4);
      texts.forEach((_, i) => data.set([i + 1, 0, 0, 1], i * 4));
      return { data, dims: [texts.length, 4] };
    });
    const fake = {
      env,
      pipeline: jest.fn(async (_task: string, model: string, options: Record<string, unknown>) => {
        calls.push({ model, options });
        return extractor;
      }),
    };
    const sut = new TransformersEmbedder(dir, 4, async () => fake);
    const out = await sut.embed(['a', 'b']);
    expect(env.allowRemoteModels).toBe(false);
    expect(env.allowLocalModels).toBe(true);
    expect(env.localModelPath).toBe(root);
    expect(calls).toEqual([{ model: 'tiny-model', options: { local_files_only: true, dtype: 'fp32' } }]);
    expect(out).toHaveLength(2);
    expect(Math.hypot(...out[1])).toBeCloseTo(1, 5);
    await sut.embed(['c']);
    expect(fake.pipeline).toHaveBeenCalledTimes(1);

    const wrongDim = new TransformersEmbedder(dir, 384, async () => fake);
    const err = (await wrongDim.embed(['a']).catch((e: unknown) => e)) as EmbedderError;
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/dimension mismatch, configured 384, model transformers:tiny-model gives 4/);
  });
});
