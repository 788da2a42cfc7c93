import type { ProviderConfig } from './llm-router.types';

/**
 * What kind of failure an attempt (or a probe) had, from the operator's point of view (issue 12): each class has its
 * own fix, so the hint must name the class that actually happened, never a generic "start Ollama".
 * - `timeout`: the provider accepted the connection but did not answer within `timeout_ms`;
 * - `refused`: nothing listens at the URL (ECONNREFUSED, unknown host);
 * - `reset`: the connection dropped mid-request;
 * - `server_error`: HTTP 5xx, or a 200 whose body is an error;
 * - `bad_model`: the provider answers but does not have the model (Ollama 404 "model ... not found, try pulling it");
 * - `rate_limited` (429), `auth` (401/403), `rejected` (other 4xx: the request itself), `bad_response` (not the
 *   protocol: malformed JSON, cut stream), `other`.
 */
export type FailureClass = 'timeout' | 'refused' | 'reset' | 'server_error' | 'bad_model' | 'rate_limited' | 'auth' | 'rejected' | 'bad_response' | 'other';

const MODEL_MISSING = /model\b.*\bnot found|try pulling|no such model|model .*does not exist|unknown model|model_not_found/i;

/**
 * Classifies an attempt's `reason` (`timeout`, `connection_refused`, `http_503`, ...) and its sanitised error text.
 * A missing model is recognised from the error text whatever the status (Ollama: 404; some servers: 400 or an error body).
 */
export function failureClass(reason: string, error = ''): FailureClass {
  if (MODEL_MISSING.test(error)) return 'bad_model';
  if (reason === 'timeout') return 'timeout';
  if (reason === 'connection_refused') return 'refused';
  if (reason === 'connection_reset' || reason === 'stream_interrupted') return 'reset';
  if (reason === 'rate_limited' || reason === 'http_429') return 'rate_limited';
  if (reason === 'http_401' || reason === 'http_403' || reason === 'auth') return 'auth';
  if (reason === 'error_body' || /^http_5\d\d$/.test(reason) || reason === 'http_5xx') return 'server_error';
  if (/^http_4\d\d$/.test(reason) || reason === 'http_4xx') return 'rejected';
  if (reason === 'bad_response') return 'bad_response';
  return 'other';
}

/**
 * One sentence telling the operator how to fix failure class `cls` at provider `p` (model `model`, attempt timeout
 * `timeoutMs` in ms). Never contains secrets (the URL is the configured base URL, credentials stripped by the caller).
 */
export function hintFor(p: Pick<ProviderConfig, 'name' | 'type' | 'url' | 'modelPath'>, cls: FailureClass, model: string | null, timeoutMs: number): string {
  const where = p.type === 'llama-cpp' ? (p.modelPath ?? 'its model file') : (p.url ?? 'its URL');
  const m = model ?? 'the model';
  switch (cls) {
    case 'timeout':
      return `${p.name} accepted the connection but did not answer within ${timeoutMs} ms: the model may still be loading or be too slow for this machine; raise timeout_ms for ${p.name} or use a smaller model`;
    case 'refused':
      return p.type === 'ollama'
        ? `nothing answers at ${where}: start Ollama there (ollama serve) or fix the url of ${p.name}`
        : `nothing answers at ${where}: start the server or fix the url of ${p.name}`;
    case 'reset':
      return `${p.name} dropped the connection mid-request: check its logs (crash or out of memory) or a proxy in between`;
    case 'server_error':
      return `${p.name} answered with a server error: check its logs (model failed to load, out of memory)`;
    case 'bad_model':
      return p.type === 'ollama'
        ? `${p.name} is up but does not have ${m}: pull it (ollama pull ${m}) or set a model it has in providers.yaml`
        : `${p.name} is up but does not serve ${m}: set a model it has in providers.yaml`;
    case 'rate_limited':
      return `${p.name} is rate limiting: lower the request rate or raise the plan's limit`;
    case 'auth':
      return `${p.name} rejected the credentials: check its api_key`;
    case 'rejected':
      return `${p.name} rejected the request itself (4xx): check the model name and max_tokens`;
    case 'bad_response':
      return `${p.name} answered with something that is not its protocol: check that ${where} is a ${p.type} endpoint`;
    case 'other':
      return p.type === 'llama-cpp' ? `check the GGUF model_path of ${p.name}` : `check ${p.name} at ${where}`;
  }
}
