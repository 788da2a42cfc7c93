import type { AppConfig } from '../../config/app-config';
import type { Embedder } from './embedder';
import { HashEmbedder } from './hash.embedder';
import { OllamaEmbedder, OpenAiEmbedder } from './http-embedders';
import { TransformersEmbedder, transformersModelProblem } from './transformers.embedder';

/** The configured embedder and, when it could not be used at boot, why the chain fell back to the next one. */
export interface EmbedderChoice {
  embedder: Embedder;
  /** The kind asked for by MEMORY_EMBEDDER. */
  configured: string;
  /** Set when `embedder` is not the configured kind (e.g. a transformers model directory that does not exist). */
  fallbackReason: string | null;
}

/**
 * The configured embedder (MEMORY_EMBEDDER), first of the chain configured -> deterministic fallback. `ollama`
 * defaults to http://127.0.0.1:11434 and all-minilm; `openai` needs MEMORY_EMBED_URL and MEMORY_EMBED_MODEL;
 * `transformers` needs MEMORY_EMBED_MODEL_DIR, a local model directory (never downloaded). The HTTP embedders are
 * checked at run time (outages back off and retry); a transformers directory that is missing or incomplete is known
 * at boot, so the chain falls back to the hashing embedder at once and reports why (`fallbackReason`, shown in stats).
 */
export function createEmbedder(config: AppConfig): EmbedderChoice {
  const dim = config.MEMORY_EMBED_DIM;
  const configured = config.MEMORY_EMBEDDER;
  switch (configured) {
    case 'ollama':
      return {
        embedder: new OllamaEmbedder(config.MEMORY_EMBED_URL || 'http://127.0.0.1:11434', config.MEMORY_EMBED_MODEL || 'all-minilm', dim, config.MEMORY_EMBED_TIMEOUT_MS),
        configured,
        fallbackReason: null,
      };
    case 'openai':
      return {
        embedder: new OpenAiEmbedder(config.MEMORY_EMBED_URL, config.MEMORY_EMBED_MODEL || 'text-embedding-3-small', dim, config.MEMORY_EMBED_API_KEY, config.MEMORY_EMBED_TIMEOUT_MS),
        configured,
        fallbackReason: null,
      };
    case 'transformers': {
      const problem = transformersModelProblem(config.MEMORY_EMBED_MODEL_DIR);
      if (problem) return { embedder: new HashEmbedder(dim), configured, fallbackReason: `transformers: ${problem}` };
      return { embedder: new TransformersEmbedder(config.MEMORY_EMBED_MODEL_DIR, dim), configured, fallbackReason: null };
    }
    default:
      return { embedder: new HashEmbedder(dim), configured: 'fallback', fallbackReason: null };
  }
}
