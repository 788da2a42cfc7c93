import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ListResponse, Principal, QuestionDto } from '@app/contracts';
import { ApiErrors } from '../../common/decorators/api-errors.decorator';
import { CurrentPrincipal, Roles } from '../../common/decorators/auth.decorators';
import { AnswerQuestionDto, AskQuestionDto, QuestionListResponseDto, QuestionQueryDto, QuestionResponseDto } from '../dto/question.dto';
import { IdParamPipe } from '../../common/pipes/id-param.pipe';
import { QuestionsService } from './questions.service';
import { actorFrom, requireAgentId } from '../swarm.types';

@ApiTags('questions')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('api/questions')
export class QuestionsController {
  constructor(private readonly questions: QuestionsService) {}

  @Get()
  @ApiOperation({ summary: 'Operator questions newest first, optionally by status' })
  @ApiOkResponse({ type: QuestionListResponseDto })
  @ApiErrors(400, 401)
  list(@Query() q: QuestionQueryDto): Promise<ListResponse<QuestionDto>> {
    return this.questions.list(q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One question' })
  @ApiOkResponse({ type: QuestionResponseDto })
  @ApiErrors(400, 401, 404)
  get(@Param('id', IdParamPipe) id: string): Promise<QuestionDto> {
    return this.questions.get(id);
  }

  @Post()
  @Roles('agent')
  @ApiOperation({ summary: 'An agent asks the operators a question (question.asked); optional deadline expires it' })
  @ApiCreatedResponse({ type: QuestionResponseDto })
  @ApiErrors(400, 401, 403, 404)
  ask(@Body() body: AskQuestionDto, @CurrentPrincipal() p: Principal): Promise<QuestionDto> {
    return this.questions.ask(requireAgentId(p), body);
  }

  @Post(':id/answer')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Answer an open question with option(s) (question.answered)' })
  @ApiOkResponse({ type: QuestionResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  answer(@Param('id', IdParamPipe) id: string, @Body() body: AnswerQuestionDto, @CurrentPrincipal() p: Principal): Promise<QuestionDto> {
    return this.questions.answer(id, body.answer, actorFrom(p));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('operator', 'agent')
  @ApiOperation({ summary: 'Cancel an open question (operators, or the asking agent) (question.cancelled)' })
  @ApiOkResponse({ type: QuestionResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  cancel(@Param('id', IdParamPipe) id: string, @CurrentPrincipal() p: Principal): Promise<QuestionDto> {
    return this.questions.cancel(id, actorFrom(p));
  }
}
