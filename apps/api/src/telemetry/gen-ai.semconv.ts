/**
 * OpenTelemetry GenAI semantic-convention names used by the task-trace export. They are still "incubating" in
 * `@opentelemetry/semantic-conventions` (1.45), whose README asks consumers to copy incubating names rather than
 * import the `/incubating` entry point (its contents may change in minor versions); the values below are those of
 * `ATTR_GEN_AI_*` / `GEN_AI_OPERATION_NAME_VALUE_*` there. Stable names (service.name, error.type) are imported
 * from the package itself where they are used.
 */
export const GEN_AI = {
  OPERATION_NAME: 'gen_ai.operation.name',
  PROVIDER_NAME: 'gen_ai.provider.name',
  AGENT_ID: 'gen_ai.agent.id',
  AGENT_NAME: 'gen_ai.agent.name',
  AGENT_DESCRIPTION: 'gen_ai.agent.description',
  CONVERSATION_ID: 'gen_ai.conversation.id',
  REQUEST_MODEL: 'gen_ai.request.model',
  REQUEST_MAX_TOKENS: 'gen_ai.request.max_tokens',
  RESPONSE_MODEL: 'gen_ai.response.model',
  USAGE_INPUT_TOKENS: 'gen_ai.usage.input_tokens',
  USAGE_OUTPUT_TOKENS: 'gen_ai.usage.output_tokens',
  TOOL_NAME: 'gen_ai.tool.name',
  TOOL_CALL_ID: 'gen_ai.tool.call.id',
  TOOL_TYPE: 'gen_ai.tool.type',
} as const;

/** `gen_ai.operation.name` values of the three span kinds we export. */
export const GEN_AI_OPERATION = { INVOKE_AGENT: 'invoke_agent', EXECUTE_TOOL: 'execute_tool', CHAT: 'chat' } as const;
