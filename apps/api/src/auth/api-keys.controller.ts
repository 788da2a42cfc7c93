import { Body, Controller, Delete, Get, Header, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ApiKeyDto, CreateApiKeyResponse, Principal } from '@app/contracts';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { CurrentPrincipal, Roles } from '../common/decorators/auth.decorators';
import { AuthService } from './auth.service';
import { ApiKeyResponseDto, CreateApiKeyDto, CreateApiKeyResponseDto } from './dto/auth.dto';

@ApiTags('api-keys')
@ApiBearerAuth()
@ApiCookieAuth()
@Roles('admin', 'operator', 'viewer')
@Controller('api/api-keys')
export class ApiKeysController {
  constructor(private readonly auth: AuthService) {}

  @Get()
  @ApiOperation({ summary: 'List API keys (never the secrets): all for admins, your own otherwise' })
  @ApiOkResponse({ type: [ApiKeyResponseDto] })
  @ApiErrors(401, 403)
  list(@CurrentPrincipal() p: Principal): Promise<ApiKeyDto[]> {
    return this.auth.listApiKeys(p.role === 'admin' ? undefined : (p.userId ?? '-'));
  }

  @Post()
  @Roles('admin', 'operator')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Create an API key bound to you (or, admins, to userId), with a role up to yours. The key is returned once.',
    description:
      'Viewers are read-only and cannot create keys; an admin creates a viewer\'s key with userId. ' +
      'Agent keys are created with POST /api/agents (enroll) or POST /api/agents/{id}/keys.',
  })
  @ApiCreatedResponse({ type: CreateApiKeyResponseDto })
  @ApiErrors(400, 401, 403, 404)
  create(@Body() body: CreateApiKeyDto, @CurrentPrincipal() p: Principal): Promise<CreateApiKeyResponse> {
    return this.auth.createUserApiKey(body.label, body.role, p, body.userId);
  }

  @Delete(':id')
  @Roles('admin', 'operator')
  @ApiOperation({ summary: 'Revoke a key (idempotent; admins any key, others their own); its sockets are disconnected' })
  @ApiOkResponse({ type: ApiKeyResponseDto })
  @ApiErrors(401, 403, 404)
  revoke(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() p: Principal): Promise<ApiKeyDto> {
    return this.auth.revokeApiKey(id, p.username ?? 'api', p.role === 'admin' ? undefined : (p.userId ?? '-'));
  }
}
