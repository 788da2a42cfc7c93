import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AgentDto, PersonaDto, Principal } from '@app/contracts';
import { ApiErrors } from '../../common/decorators/api-errors.decorator';
import { CurrentPrincipal, Roles } from '../../common/decorators/auth.decorators';
import { AgentResponseDto, PersonaResponseDto } from '../dto/agent.dto';
import { IdParamPipe } from '../../common/pipes/id-param.pipe';
import { PersonasService } from './personas.service';
import { actorFrom } from '../swarm.types';

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
