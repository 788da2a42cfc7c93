import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AgentDto, CreateApiKeyResponse, EnrollAgentResponse, ListResponse, PersonaDto, Principal, SwarmStatusDto } from '@app/contracts';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { CurrentPrincipal, Roles } from '../common/decorators/auth.decorators';
import { AgentsService } from './agents.service';
import {
  AgentKeyResponseDto,
  AgentListResponseDto,
  AgentResponseDto,
  EnrollAgentDto,
  EnrollAgentResponseDto,
  JoinDto,
  PersonaResponseDto,
} from './dto/agent.dto';
import { SwarmStatusResponseDto } from './dto/task.dto';
import { IdParamPipe } from './id-param.pipe';
import { PersonasService } from './personas.service';
import { SwarmService } from './swarm.service';
import { actorFrom, requireAgentId } from './swarm.types';

@ApiTags('agents')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('api/agents')
export class AgentsController {
  constructor(
    private readonly agents: AgentsService,
    private readonly swarm: SwarmService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every agent (personas and external), with the head seq read before the rows' })
  @ApiOkResponse({ type: AgentListResponseDto })
  @ApiErrors(401)
  list(): Promise<ListResponse<AgentDto>> {
    return this.agents.list();
  }

  @Post('me/join')
  @HttpCode(200)
  @Roles('agent')
  @ApiOperation({ summary: 'The calling agent joins the swarm (agent.joined; offline -> idle)' })
  @ApiOkResponse({ type: AgentResponseDto })
  @ApiErrors(400, 401, 403, 404)
  join(@Body() body: JoinDto, @CurrentPrincipal() p: Principal): Promise<AgentDto> {
    return this.agents.join(requireAgentId(p), body.capabilities);
  }

  @Post('me/heartbeat')
  @HttpCode(200)
  @Roles('agent')
  @ApiOperation({ summary: 'Heartbeat of the calling agent; brings an offline agent back (agent.status_changed)' })
  @ApiOkResponse({ type: AgentResponseDto })
  @ApiErrors(401, 403, 404)
  heartbeat(@CurrentPrincipal() p: Principal): Promise<AgentDto> {
    return this.agents.heartbeat(requireAgentId(p));
  }

  @Post('me/leave')
  @HttpCode(200)
  @Roles('agent')
  @ApiOperation({ summary: 'The calling agent leaves (offline, agent.left; its active tasks fail)' })
  @ApiOkResponse({ type: AgentResponseDto })
  @ApiErrors(401, 403, 404)
  leave(@CurrentPrincipal() p: Principal): Promise<AgentDto> {
    return this.agents.leave(requireAgentId(p));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One agent' })
  @ApiOkResponse({ type: AgentResponseDto })
  @ApiErrors(400, 401, 404)
  get(@Param('id', IdParamPipe) id: string): Promise<AgentDto> {
    return this.agents.get(id);
  }

  @Post()
  @Roles('operator')
  @ApiOperation({ summary: 'Enroll an external agent and create its agent-bound API key (returned once)' })
  @ApiCreatedResponse({ type: EnrollAgentResponseDto })
  @ApiErrors(400, 401, 403, 409)
  enroll(@Body() body: EnrollAgentDto, @CurrentPrincipal() p: Principal): Promise<EnrollAgentResponse> {
    return this.agents.enroll(body.name, body.capabilities, actorFrom(p));
  }

  @Post(':id/keys')
  @Roles('operator')
  @ApiOperation({ summary: 'Create another API key for an external agent (returned once)' })
  @ApiCreatedResponse({ type: AgentKeyResponseDto })
  @ApiErrors(400, 401, 403, 404)
  issueKey(@Param('id', IdParamPipe) id: string, @CurrentPrincipal() p: Principal): Promise<CreateApiKeyResponse> {
    return this.agents.issueKey(id, actorFrom(p));
  }

  @Delete(':id')
  @Roles('operator')
  @ApiOperation({ summary: 'Remove an agent: external -> keys revoked, offline, agent.left; persona -> stopped' })
  @ApiOkResponse({ type: AgentResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  remove(@Param('id', IdParamPipe) id: string, @CurrentPrincipal() p: Principal): Promise<AgentDto> {
    return this.swarm.removeAgent(id, actorFrom(p));
  }
}

@ApiTags('agents')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('api/personas')
export class PersonasController {
  constructor(private readonly personas: PersonasService) {}

  @Get()
  @ApiOperation({ summary: 'The nine built-in personas with their bidding parameters and running agent' })
  @ApiOkResponse({ type: [PersonaResponseDto] })
  @ApiErrors(401)
  list(): Promise<PersonaDto[]> {
    return this.personas.list();
  }

  @Post(':personaId/spawn')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Spawn a persona as agent persona-<id> (agent.lifecycle spawning -> null, agent.joined)' })
  @ApiOkResponse({ type: AgentResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  spawn(@Param('personaId', IdParamPipe) id: string, @CurrentPrincipal() p: Principal): Promise<AgentDto> {
    return this.personas.spawn(id, actorFrom(p));
  }

  @Post(':personaId/stop')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Stop a persona (agent.lifecycle stopping -> null, agent.left)' })
  @ApiOkResponse({ type: AgentResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  stop(@Param('personaId', IdParamPipe) id: string, @CurrentPrincipal() p: Principal): Promise<AgentDto> {
    return this.personas.stop(id, actorFrom(p));
  }

  @Post(':personaId/restart')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Restart a persona (agent.lifecycle restarting -> null, agent.left/agent.joined)' })
  @ApiOkResponse({ type: AgentResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  restart(@Param('personaId', IdParamPipe) id: string, @CurrentPrincipal() p: Principal): Promise<AgentDto> {
    return this.personas.restart(id, actorFrom(p));
  }
}

@ApiTags('swarm')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('api/swarm')
export class SwarmController {
  constructor(private readonly swarm: SwarmService) {}

  @Get('status')
  @ApiOperation({ summary: 'Agent and task counts, open auctions, head seq' })
  @ApiOkResponse({ type: SwarmStatusResponseDto })
  @ApiErrors(401)
  status(): Promise<SwarmStatusDto> {
    return this.swarm.status();
  }
}
