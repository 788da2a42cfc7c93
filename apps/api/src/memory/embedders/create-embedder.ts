import type { AppConfig } from '../../config/app-config';
import type { Embedder } from './embedder';
import { HashEmbedder } from './hash.embedder';
import { OllamaEmbedder, OpenAiEmbedder } from './http-embedders';

/**
 * The configured embedder (MEMORY_EMBEDDER). `ollama` defaults to http://127.0.0.1:11434 and all-minilm;
 * `openai` needs MEMORY_EMBED_URL and MEMORY_EMBED_MODEL. `transformers` is not wired in this build (see
 * docs/memory notes) and falls back to the hashing embedder with a warning at boot.
 */
export function createEmbedder(config: AppConfig): Embedder {
  const dim = config.MEMORY_EMBED_DIM;
  switch (config.MEMORY_EMBEDDER) {
    case 'ollama':
      return new OllamaEmbedder(config.MEMORY_EMBED_URL || 'http://127.0.0.1:11434', config.MEMORY_EMBED_MODEL || 'all-minilm', dim, config.MEMORY_EMBED_TIMEOUT_MS);
    case 'openai':
      return new OpenAiEmbedder(config.MEMORY_EMBED_URL, config.MEMORY_EMBED_MODEL || 'text-embedding-3-small', dim, config.MEMORY_EMBED_API_KEY, config.MEMORY_EMBED_TIMEOUT_MS);
    default:
      return new HashEmbedder(dim);
  }
}
