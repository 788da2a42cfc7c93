import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { SwarmStatusDto } from '@app/contracts';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { SwarmStatusResponseDto } from './dto/task.dto';
import { SwarmService } from './swarm.service';

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
