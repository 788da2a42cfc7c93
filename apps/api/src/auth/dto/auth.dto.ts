import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { Optional } from '../../common/validation';
import {
  ROLES,
  type ApiKeyDto,
  type CreateApiKeyRequest,
  type CreateApiKeyResponse,
  type CreateUserRequest,
  type LoginRequest,
  type MeResponse,
  type Principal,
  type Role,
  type UpdateUserRequest,
  type UserDto,
  type UserRole,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
} from '@app/contracts';

const USER_ROLES = ['admin', 'operator', 'viewer'] as const;

export class LoginDto implements LoginRequest {
  @ApiProperty({ example: 'admin' }) @IsString() @MinLength(1) @MaxLength(64) username: string;
  @ApiProperty({ example: 'correct horse battery staple' }) @IsString() @MinLength(1) @MaxLength(256) password: string;
}

export class PrincipalDto implements Principal {
  @ApiProperty({ enum: ['user', 'api_key'] }) kind: 'user' | 'api_key';
  @ApiProperty({ nullable: true, type: String }) userId: string | null;
  @ApiProperty({ nullable: true, type: String }) username: string | null;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiProperty({ nullable: true, type: String }) agentId: string | null;
  @ApiProperty({ nullable: true, type: String }) apiKeyId: string | null;
}

export class MeResponseDto implements MeResponse {
  @ApiProperty({ type: PrincipalDto }) principal: Principal;
  @ApiProperty({ description: 'Send as x-csrf-token on state-changing requests made with the session cookie' })
  csrfToken: string;
}

export class UserResponseDto implements UserDto {
  @ApiProperty() id: string;
  @ApiProperty() username: string;
  @ApiProperty({ enum: USER_ROLES }) role: UserRole;
  @ApiProperty() disabled: boolean;
  @ApiProperty() createdAt: string;
}

export class CreateUserDto implements CreateUserRequest {
  @ApiProperty({ example: 'ops1' }) @Matches(/^[a-zA-Z0-9_.-]{3,64}$/, { message: 'username must be 3-64 letters, digits, _ . -' })
  username: string;
  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH, example: 'a long passphrase' }) @IsString() @MinLength(PASSWORD_MIN_LENGTH) @MaxLength(PASSWORD_MAX_LENGTH) password: string;
  @ApiProperty({ enum: USER_ROLES }) @IsIn(USER_ROLES) role: UserRole;
}

export class UpdateUserDto implements UpdateUserRequest {
  @ApiPropertyOptional({ enum: USER_ROLES }) @Optional() @IsIn(USER_ROLES) role?: UserRole;
  @ApiPropertyOptional({ minLength: PASSWORD_MIN_LENGTH }) @Optional() @IsString() @MinLength(PASSWORD_MIN_LENGTH) @MaxLength(PASSWORD_MAX_LENGTH) password?: string;
  @ApiPropertyOptional() @Optional() @IsBoolean() disabled?: boolean;
}

export class ApiKeyResponseDto implements ApiKeyDto {
  @ApiProperty() id: string;
  @ApiProperty() label: string;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiProperty({ example: 'mck_3fa9' }) prefix: string;
  @ApiProperty({ nullable: true, type: String }) agentId: string | null;
  @ApiProperty({ nullable: true, type: String }) userId: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) lastUsedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) revokedAt: string | null;
}

export class CreateApiKeyDto implements CreateApiKeyRequest {
  @ApiProperty({ example: 'ci script' }) @IsString() @MinLength(1) @MaxLength(100) label: string;
  @ApiProperty({ enum: ROLES, description: 'Role of the key; `agent` keys must name an existing agent in agentId' })
  @IsIn(ROLES)
  role: Role;
  @ApiPropertyOptional({ description: 'Agent the key is bound to (role agent only)' })
  @Optional() @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  agentId?: string;
  @ApiPropertyOptional() @Optional() @IsString() @MaxLength(64) agentName?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'Admins only: the user the key is bound to (default: you)' })
  @Optional() @IsUUID()
  userId?: string;
  @ApiPropertyOptional({ type: [String] }) @Optional() @IsArray() @ArrayMaxSize(32) @IsString({ each: true }) capabilities?: string[];
}

export class CreateApiKeyResponseDto implements CreateApiKeyResponse {
  @ApiProperty({ type: ApiKeyResponseDto }) apiKey: ApiKeyDto;
  @ApiProperty({ description: 'The secret key. Shown once; store it now.', example: 'mck_...' }) key: string;
}
