import { Body, Controller, Get, Header, HttpCode, Inject, Ip, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SkipThrottle, ThrottlerGuard } from '@nestjs/throttler';
import type { MeResponse } from '@app/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { Public } from '../common/decorators/auth.decorators';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { SESSION_COOKIE } from './auth.constants';
import { AuthService, type ResolvedPrincipal } from './auth.service';
import { CsrfService } from './csrf.service';
import { LoginDto, MeResponseDto } from './dto/auth.dto';

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly csrf: CsrfService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store') // sets the session cookie and returns a CSRF token
  @UseGuards(ThrottlerGuard)
  @SkipThrottle({ public: true })
  @ApiOperation({ summary: 'Log in with username + password; sets the httpOnly session cookie and returns a CSRF token' })
  @ApiOkResponse({ type: MeResponseDto })
  @ApiErrors(400, 401, 429)
  async login(@Body() body: LoginDto, @Ip() ip: string, @Req() req: FastifyRequest, @Res({ passthrough: true }) res: FastifyReply): Promise<MeResponse> {
    const { token, principal } = await this.auth.login(body.username, body.password, ip);
    const cfg = this.config;
    void res.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'lax',
      secure: cfg.COOKIE_SECURE,
      path: '/',
      maxAge: cfg.SESSION_TTL_HOURS * 3_600, // seconds (RFC 6265 Max-Age)
    });
    req.cookies = { ...req.cookies, [SESSION_COOKIE]: token };
    const { sessionId: _s, ...pub } = principal;
    return { principal: pub, csrfToken: this.csrf.generate(req, res) };
  }

  @Post('logout')
  @HttpCode(204)
  @ApiCookieAuth()
  @ApiOperation({ summary: 'End the current session' })
  @ApiNoContentResponse({ description: 'Session ended, cookie cleared' })
  @ApiErrors(401, 403)
  async logout(@Req() req: FastifyRequest, @Res({ passthrough: true }) res: FastifyReply): Promise<void> {
    await this.auth.logout(req.cookies?.[SESSION_COOKIE]);
    void res.clearCookie(SESSION_COOKIE, { path: '/' });
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiCookieAuth()
  @ApiOperation({ summary: 'The caller, and a fresh CSRF token for cookie sessions' })
  @ApiOkResponse({ type: MeResponseDto })
  @ApiErrors(401)
  me(@Req() req: FastifyRequest & { principal: ResolvedPrincipal }, @Res({ passthrough: true }) res: FastifyReply): MeResponse {
    const { sessionId, ...principal } = req.principal;
    return { principal, csrfToken: sessionId ? this.csrf.generate(req, res, false) : '' };
  }
}
