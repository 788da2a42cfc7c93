import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AgentDto, CreateApiKeyResponse, EnrollAgentResponse, ListResponse, Principal } from '@app/contracts';
import { ApiErrors } from '../../common/decorators/api-errors.decorator';
import { CurrentPrincipal, Roles } from '../../common/decorators/auth.decorators';
import { AgentsService } from './agents.service';
import { AgentKeyResponseDto, AgentListResponseDto, AgentResponseDto, EnrollAgentDto, EnrollAgentResponseDto, JoinDto } from '../dto/agent.dto';
import { IdParamPipe } from '../../common/pipes/id-param.pipe';
import { SwarmService } from '../swarm.service';
import { actorFrom, requireAgentId } from '../swarm.types';

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
  @Header('Cache-Control', 'no-store') // the response holds the new key
  @ApiOperation({ summary: 'Enroll an external agent and create its agent-bound API key (returned once)' })
  @ApiCreatedResponse({ type: EnrollAgentResponseDto })
  @ApiErrors(400, 401, 403, 409)
  enroll(@Body() body: EnrollAgentDto, @CurrentPrincipal() p: Principal): Promise<EnrollAgentResponse> {
    return this.agents.enroll(body.name, body.capabilities, actorFrom(p));
  }

  @Post(':id/keys')
  @Roles('operator')
  @Header('Cache-Control', 'no-store') // the response holds the new key
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
