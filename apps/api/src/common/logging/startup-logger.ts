import { ConsoleLogger, type LogLevel } from '@nestjs/common';

/**
 * Nest's boot chatter: one line per module, controller and route (~90 lines on this app). Logged at `debug` so the
 * start ends with the banner instead of burying it (issue 12); `LOG_LEVEL=debug` shows them again.
 */
export const BOOT_CHATTER_CONTEXTS: ReadonlySet<string> = new Set(['RoutesResolver', 'RouterExplorer', 'InstanceLoader', 'NestFactory', 'NestApplication', 'WebSocketsController']);

/** ConsoleLogger that demotes Nest's boot chatter (`BOOT_CHATTER_CONTEXTS`) from `log` to `debug`. */
export class QuietBootLogger extends ConsoleLogger {
  constructor(levels: LogLevel[]) {
    super();
    this.setLogLevels(levels);
  }

  override log(message: unknown, ...rest: unknown[]): void {
    const context = rest.length > 0 ? rest[rest.length - 1] : this.context;
    if (typeof context === 'string' && BOOT_CHATTER_CONTEXTS.has(context)) {
      super.debug(message, ...rest);
      return;
    }
    super.log(message, ...rest);
  }
}

/**
 * The start banner: where the dashboard and Swagger are, who to log in as (and the generated password on a first
 * start, printed once here rather than among the boot lines), storage, and warnings found at boot. Plain text.
 */
export function startBanner(p: { url: string; username: string; generatedPassword: string | null; storage: string; warnings: string[] }): string {
  const rule = '-'.repeat(72);
  const lines = [
    '',
    rule,
    '  Mission Control is up',
    `  Dashboard   ${p.url}/`,
    `  Swagger     ${p.url}/api/docs`,
    `  Phone view  ${p.url}/m`,
    `  User        ${p.username}`,
    p.generatedPassword
      ? `  Password    ${p.generatedPassword}   (generated on this first start; shown once, store it now)`
      : '  Password    as set (ADMIN_PASSWORD on first start, or changed in Settings)',
    `  Storage     ${p.storage}`,
    ...p.warnings.map((w) => `  WARNING     ${w}`),
    rule,
    '',
  ];
  return lines.join('\n');
}
