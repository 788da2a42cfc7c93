import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal, UserDto } from '@app/contracts';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { CurrentPrincipal, Roles } from '../common/decorators/auth.decorators';
import { AuthService } from './auth.service';
import { CreateUserDto, UpdateUserDto, UserResponseDto } from './dto/auth.dto';

@ApiTags('users')
@ApiBearerAuth()
@ApiCookieAuth()
@Roles('admin')
@Controller('api/users')
export class UsersController {
  constructor(private readonly auth: AuthService) {}

  @Get()
  @ApiOperation({ summary: 'List users (admin)' })
  @ApiOkResponse({ type: [UserResponseDto] })
  @ApiErrors(401, 403)
  list(): Promise<UserDto[]> {
    return this.auth.listUsers();
  }

  @Post()
  @ApiOperation({ summary: 'Create a user (admin)' })
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiErrors(400, 401, 403, 409)
  create(@Body() body: CreateUserDto, @CurrentPrincipal() p: Principal): Promise<UserDto> {
    return this.auth.createUser(body, p.username ?? 'api');
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change role, password or disabled flag (admin); ends the user\'s sessions on password change or disable' })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  update(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: UpdateUserDto, @CurrentPrincipal() p: Principal): Promise<UserDto> {
    return this.auth.updateUser(id, body, p.username ?? 'api');
  }
}
