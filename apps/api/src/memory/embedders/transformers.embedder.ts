import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { EmbedderError, l2normalize, type Embedder } from './embedder';

/** The part of `@huggingface/transformers` this embedder uses (loaded lazily: onnxruntime only when configured). */
interface TransformersModule {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean; localModelPath: string; useBrowserCache?: boolean };
  pipeline(task: 'feature-extraction', model: string, options: Record<string, unknown>): Promise<FeatureExtractor>;
}
type FeatureExtractor = (texts: string[], options: { pooling: 'mean'; normalize: boolean }) => Promise<{ data: Float32Array; dims: number[] }>;

/** ONNX weights transformers.js looks for under `<dir>/onnx/`, in our order of preference, with the dtype naming them. */
const WEIGHTS: { file: string; dtype: string }[] = [
  { file: 'model.onnx', dtype: 'fp32' },
  { file: 'model_quantized.onnx', dtype: 'q8' },
  { file: 'model_int8.onnx', dtype: 'int8' },
  { file: 'model_fp16.onnx', dtype: 'fp16' },
];

/**
 * Why `dir` cannot serve as a transformers.js sentence-embedding model, or null when it looks usable: it must be a
 * directory with `config.json`, `tokenizer.json` and one of the ONNX weight files under `onnx/` (the layout of an
 * exported Hugging Face model, e.g. Xenova/all-MiniLM-L6-v2). Nothing is ever downloaded.
 */
export function transformersModelProblem(dir: string): string | null {
  if (!dir) return 'MEMORY_EMBED_MODEL_DIR is not set';
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) return `model directory ${abs} does not exist`;
  for (const f of ['config.json', 'tokenizer.json']) if (!existsSync(join(abs, f))) return `model directory ${abs} has no ${f}`;
  if (!pickWeights(abs)) return `model directory ${abs} has no ONNX weights (onnx/${WEIGHTS.map((w) => w.file).join(' | ')})`;
  return null;
}

function pickWeights(abs: string): { file: string; dtype: string } | null {
  const onnxDir = join(abs, 'onnx');
  if (!existsSync(onnxDir)) return null;
  const files = new Set(readdirSync(onnxDir));
  return WEIGHTS.find((w) => files.has(w.file)) ?? null;
}

/**
 * transformers.js (`@huggingface/transformers`, onnxruntime-node CPU) over a local model directory
 * (MEMORY_EMBED_MODEL_DIR): mean-pooled, L2-normalised sentence embeddings. Remote models are disabled
 * (`env.allowRemoteModels = false`, `local_files_only`), so a missing file is an error, never a download. The library
 * is imported on first use, so other embedders never load onnxruntime. Model id recorded with vectors:
 * `transformers:<directory name>`.
 */
export class TransformersEmbedder implements Embedder {
  readonly kind = 'transformers';
  readonly model: string;
  private readonly dir: string;
  private extractor: Promise<FeatureExtractor> | null = null;

  constructor(
    dir: string,
    readonly dimension: number,
    private readonly importer: () => Promise<unknown> = () => import('@huggingface/transformers'),
  ) {
    this.dir = resolve(dir);
    this.model = `transformers:${basename(this.dir)}`;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const extract = await this.load();
    let out: { data: Float32Array; dims: number[] };
    try {
      out = await extract(texts, { pooling: 'mean', normalize: true });
    } catch (err) {
      throw new EmbedderError(`transformers.js inference failed: ${(err as Error).message}`, true);
    }
    const [n, d] = out.dims;
    if (n !== texts.length) throw new EmbedderError(`transformers.js returned ${n} embeddings for ${texts.length} texts`, true);
    if (d !== this.dimension) {
      throw new EmbedderError(`transformers.js: dimension mismatch, configured ${this.dimension}, model ${this.model} gives ${d} (set MEMORY_EMBED_DIM)`, false);
    }
    return Array.from({ length: n }, (_, i) => l2normalize(Float32Array.from(out.data.subarray(i * d, (i + 1) * d))));
  }

  private load(): Promise<FeatureExtractor> {
    if (!this.extractor) {
      this.extractor = (async () => {
        const problem = transformersModelProblem(this.dir);
        if (problem) throw new EmbedderError(`transformers.js: ${problem}`, false);
        const tf = (await this.importer()) as TransformersModule;
        tf.env.allowRemoteModels = false;
        tf.env.allowLocalModels = true;
        tf.env.useBrowserCache = false;
        tf.env.localModelPath = dirname(this.dir);
        try {
          return await tf.pipeline('feature-extraction', basename(this.dir), { local_files_only: true, dtype: pickWeights(this.dir)!.dtype });
        } catch (err) {
          throw new EmbedderError(`transformers.js could not load ${this.dir}: ${(err as Error).message}`, false);
        }
      })();
      // a failed load is retried on the next call (after the worker's back-off), not cached
      this.extractor.catch(() => {
        this.extractor = null;
      });
    }
    return this.extractor;
  }
}
