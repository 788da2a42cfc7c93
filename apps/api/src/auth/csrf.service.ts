import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { doubleCsrf, type DoubleCsrfUtilities } from 'csrf-csrf';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventLogWriter } from '../event-log/event-log.writer';
import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE } from './auth.constants';

/**
 * CSRF defence for cookie sessions: signed double-submit token (csrf-csrf) bound to the session cookie.
 * The HMAC secret is created once and kept in `meta.csrf_secret`, so tokens survive restarts. csrf-csrf only needs
 * `req.cookies`, `req.headers` and `res.cookie(name, value, options)`, which @fastify/cookie provides.
 */
@Injectable()
export class CsrfService implements OnModuleInit {
  private utils: DoubleCsrfUtilities;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const secret = await this.loadSecret();
    this.utils = doubleCsrf({
      getSecret: () => secret,
      getSessionIdentifier: (req: { cookies?: Record<string, string | undefined> }) => req.cookies?.[SESSION_COOKIE] ?? '',
      cookieName: CSRF_COOKIE,
      cookieOptions: { sameSite: 'strict', path: '/', secure: this.config.COOKIE_SECURE, httpOnly: true },
      getCsrfTokenFromRequest: (req: { headers: Record<string, string | string[] | undefined> }) => req.headers[CSRF_HEADER] as string | undefined,
    });
  }

  /**
   * Issues a token (and its cookie) for the session on `req.cookies`. With `rotate: false` an existing valid
   * token is kept, so tabs holding it keep working.
   */
  generate(req: FastifyRequest, res: FastifyReply, rotate = true): string {
    return this.utils.generateCsrfToken(req as never, res as never, { overwrite: rotate });
  }

  /** True when the request carries a valid token for its session cookie. */
  validate(req: FastifyRequest): boolean {
    return this.utils.validateRequest(req as never);
  }

  private async loadSecret(): Promise<string> {
    const key = this.dataSource.driver.escape('key');
    const rows: { value: string }[] = await this.dataSource.query(`SELECT value FROM meta WHERE ${key} = 'csrf_secret'`);
    if (rows.length > 0) return rows[0].value;
    // several instances may boot at once: the first insert wins, everyone then reads the stored secret
    const secret = randomBytes(32).toString('base64url');
    await this.events.write(({ manager }) =>
      manager.query(`INSERT INTO meta (${key}, value) VALUES ('csrf_secret', '${secret}') ON CONFLICT (${key}) DO NOTHING`),
    );
    const stored: { value: string }[] = await this.dataSource.query(`SELECT value FROM meta WHERE ${key} = 'csrf_secret'`);
    return stored[0].value;
  }
}
