import { MAX_MESSAGE_CHARS, MAX_MESSAGES, MAX_TOKENS_LIMIT } from './router.dto';

/** A text part of an OpenAI message whose `content` is an array (`{ type: 'text', text }`). */
export interface OpenAiTextPart {
  type: 'text';
  text: string;
}

/** The fields of an OpenAI `POST /v1/chat/completions` body we use; other fields are accepted and ignored. */
export interface OpenAiChatRequest {
  model: string;
  messages: { role: 'system' | 'user' | 'assistant' | 'developer'; content?: string | OpenAiTextPart[] | null }[];
  temperature?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  n?: number;
}

const tokens = { type: 'integer', minimum: 1, maximum: MAX_TOKENS_LIMIT } as const;

/**
 * JSON Schema (draft-07) of the OpenAI chat request, validated by Fastify's compiled validator (ajv) before the
 * handler runs, and published as the Swagger request body. Follows OpenAI's API reference for the fields above;
 * unknown top-level fields are allowed because OpenAI SDKs send more than we use.
 */
export const OPENAI_CHAT_REQUEST_SCHEMA = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 200, description: 'auto, a configured model, or provider/model', example: 'auto' },
    messages: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_MESSAGES,
      items: {
        type: 'object',
        required: ['role'],
        properties: {
          role: { type: 'string', enum: ['system', 'user', 'assistant', 'developer'] },
          content: {
            anyOf: [
              { type: 'string', maxLength: MAX_MESSAGE_CHARS },
              {
                type: 'array',
                maxItems: 1000,
                items: {
                  type: 'object',
                  required: ['type', 'text'],
                  properties: { type: { type: 'string', enum: ['text'] }, text: { type: 'string', maxLength: MAX_MESSAGE_CHARS } },
                },
              },
              { type: 'null' },
            ],
          },
        },
      },
    },
    temperature: { type: 'number', minimum: 0, maximum: 2 },
    max_tokens: tokens,
    max_completion_tokens: tokens,
    stream: { type: 'boolean' },
    stream_options: { type: 'object', properties: { include_usage: { type: 'boolean' } } },
    n: { type: 'integer', minimum: 1, maximum: 1 },
  },
} as const;
