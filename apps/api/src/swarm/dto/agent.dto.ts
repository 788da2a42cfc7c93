import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { Optional } from '../../common/validation';
import {
  AGENT_STATUSES,
  PERSONA_IDS,
  type AgentDto,
  type AgentKind,
  type AgentLifecycleState,
  type AgentStatus,
  type ApiKeyDto,
  type CreateApiKeyResponse,
  type EnrollAgentRequest,
  type EnrollAgentResponse,
  type JoinRequest,
  type ListResponse,
  type PersonaDto,
  type PersonaId,
} from '@app/contracts';
import { ApiKeyResponseDto } from '../../auth/dto/auth.dto';

/** Capabilities: up to 32 distinct short tags. */
const CAPABILITY = /^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,63}$/;

export class EnrollAgentDto implements EnrollAgentRequest {
  @ApiProperty({ example: 'Scout 7', maxLength: 64, description: 'Unique display name; its slug becomes the agent id' })
  @IsString() @MinLength(1) @MaxLength(64) @Matches(/\S/, { message: 'name must not be blank' })
  name: string;

  @ApiPropertyOptional({ type: [String], maxItems: 32, example: ['research', 'coding'] })
  @Optional() @IsArray() @ArrayMaxSize(32) @IsString({ each: true }) @Matches(CAPABILITY, { each: true, message: 'each capability must be 1-64 letters, digits, space _ . : -' })
  capabilities?: string[];
}

export class JoinDto implements JoinRequest {
  @ApiPropertyOptional({ type: [String], maxItems: 32, example: ['research'] })
  @Optional() @IsArray() @ArrayMaxSize(32) @IsString({ each: true }) @Matches(CAPABILITY, { each: true, message: 'each capability must be 1-64 letters, digits, space _ . : -' })
  capabilities?: string[];
}

export class AgentResponseDto implements AgentDto {
  @ApiProperty({ example: 'scout-7' }) id: string;
  @ApiProperty({ example: 'Scout 7' }) name: string;
  @ApiProperty({ enum: ['persona', 'external'] }) kind: AgentKind;
  @ApiProperty({ enum: PERSONA_IDS, nullable: true }) personaId: PersonaId | null;
  @ApiProperty({ type: [String] }) capabilities: string[];
  @ApiProperty({ enum: AGENT_STATUSES }) status: AgentStatus;
  @ApiProperty({ enum: ['spawning', 'stopping', 'restarting', 'joining', 'leaving'], nullable: true }) lifecycle: AgentLifecycleState | null;
  @ApiProperty({ nullable: true, type: String, description: 'ISO time the transient was entered' }) lifecycleSince: string | null;
  @ApiProperty({ nullable: true, type: String }) lastHeartbeatAt: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
  @ApiProperty({ nullable: true, type: String, description: 'Why an online agent does not bid now (a persona while no LLM provider can serve it), else null' })
  unavailableReason: string | null;
}

export class AgentListResponseDto implements ListResponse<AgentDto> {
  @ApiProperty({ type: [AgentResponseDto] }) items: AgentDto[];
  @ApiProperty({ description: 'Head seq of the event log read before the rows' }) headSeq: number;
  @ApiProperty() epoch: string;
}

export class EnrollAgentResponseDto implements EnrollAgentResponse {
  @ApiProperty({ type: AgentResponseDto }) agent: AgentDto;
  @ApiProperty({ description: 'Agent-bound API key (role agent). Shown once; store it now.', example: 'mck_...' }) key: string;
}

export class AgentKeyResponseDto implements CreateApiKeyResponse {
  @ApiProperty({ type: ApiKeyResponseDto }) apiKey: ApiKeyDto;
  @ApiProperty({ description: 'The secret key. Shown once.', example: 'mck_...' }) key: string;
}

export class PersonaResponseDto implements PersonaDto {
  @ApiProperty({ enum: PERSONA_IDS }) id: PersonaId;
  @ApiProperty({ example: 'Echo' }) name: string;
  @ApiProperty({ example: 'Research Analyst' }) role: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: [String] }) capabilities: string[];
  @ApiProperty({ type: [String] }) preferredKeywords: string[];
  @ApiProperty({ description: 'Nominal rate (sats)', example: 50 }) rateSats: number;
  @ApiProperty({ description: 'Base bid (sats)', example: 35 }) baseBidSats: number;
  @ApiProperty({ description: 'Bid jitter (sats)', example: 15 }) jitterSats: number;
  @ApiProperty({ nullable: true, type: String, example: 'persona-echo', description: 'Agent running it, null when not spawned' })
  agentId: string | null;
}
