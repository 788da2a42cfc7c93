import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AgentMessageDto, ListResponse, Principal } from '@app/contracts';
import { ApiErrors } from '../../common/decorators/api-errors.decorator';
import { CurrentPrincipal, Roles } from '../../common/decorators/auth.decorators';
import { MessageListResponseDto, MessageQueryDto, MessageResponseDto, SendMessageDto } from '../dto/message.dto';
import { IdParamPipe } from '../../common/pipes/id-param.pipe';
import { MessagesService } from './messages.service';
import { actorFrom, requireAgentId } from '../swarm.types';

@ApiTags('messages')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('api/messages')
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Post()
  @Roles('agent', 'operator')
  @ApiOperation({ summary: 'Send a message to an agent (message.sent)' })
  @ApiCreatedResponse({ type: MessageResponseDto })
  @ApiErrors(400, 401, 403, 404)
  send(@Body() body: SendMessageDto, @CurrentPrincipal() p: Principal): Promise<AgentMessageDto> {
    return this.messages.send(actorFrom(p), body.toAgentId, body.body);
  }

  @Get()
  @ApiOperation({ summary: 'Messages newest first; an agent sees only messages from or to itself' })
  @ApiOkResponse({ type: MessageListResponseDto })
  @ApiErrors(400, 401)
  list(@Query() q: MessageQueryDto, @CurrentPrincipal() p: Principal): Promise<ListResponse<AgentMessageDto>> {
    return this.messages.list(q, p.role === 'agent' ? (p.agentId ?? '-') : null);
  }

  @Post(':id/delivered')
  @HttpCode(200)
  @Roles('agent')
  @ApiOperation({ summary: 'The recipient acknowledges a message (message.delivered)' })
  @ApiOkResponse({ type: MessageResponseDto })
  @ApiErrors(400, 401, 403, 404)
  delivered(@Param('id', IdParamPipe) id: string, @CurrentPrincipal() p: Principal): Promise<AgentMessageDto> {
    return this.messages.markDelivered(requireAgentId(p), id);
  }
}
