import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import cookieParser from 'cookie-parser';
import helmet from 'helmet';
import { AppModule } from './app.module';
import { AppError } from './common/app-error';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import type { AppConfig } from './config/app-config';
import { EventLogService } from './event-log/event-log.service';
import { RealtimeIoAdapter } from './realtime/realtime-io.adapter';

const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;

/** Max JSON body accepted by the API. */
export const JSON_BODY_LIMIT = '256kb';

/** Maps a body-parser failure (malformed JSON, too large) to an AppError with a stable code; null for other errors. */
function bodyParserError(err: unknown): AppError | null {
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') return new AppError('request/malformed_json', 'Malformed JSON body', 400);
  if (type === 'entity.too.large') return new AppError('request/payload_too_large', `Request body larger than ${JSON_BODY_LIMIT}`, 413);
  return null;
}

/**
 * Builds the configured Nest application (not listening): security headers, cookies, body limit, validation,
 * error filter, Socket.IO adapter (Redis when REDIS_URL is set), Swagger at /api/docs and /api/docs-json.
 */
export async function createApp(config: AppConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    logger: LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(config.LOG_LEVEL) + 1),
  });
  app.set('trust proxy', 'loopback');
  app.disable('x-powered-by');
  app.set('etag', false); // API responses are dynamic; hashing every body costs latency for nothing
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT });
  // body-parser errors would reach Nest as a bare SyntaxError (-> generic 400); give them their stable codes here
  app.use((err: unknown, _req: unknown, _res: unknown, next: (e?: unknown) => void) => next(bodyParserError(err) ?? err));
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'", 'ws:', 'wss:'],
          upgradeInsecureRequests: null,
        },
      },
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.use(cookieParser());
  const origins = config.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
  if (origins.length > 0) app.enableCors({ origin: origins, credentials: true });
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }),
  );
  const events = app.get(EventLogService);
  app.useGlobalFilters(
    new AllExceptionsFilter(({ method, path, message }) => {
      void events
        .append([{ type: 'system.error', source: 'http', data: { message: `unhandled error on ${method} ${path}`, error: message } }])
        .catch(() => undefined);
    }),
  );
  const adapter = new RealtimeIoAdapter(app, config);
  await adapter.connectRedis();
  app.useWebSocketAdapter(adapter);
  app.enableShutdownHooks();

  const doc = new DocumentBuilder()
    .setTitle('Timmy Time Mission Control')
    .setDescription(
      'REST API of the swarm control room. Authorize with an API key (Bearer mck_...) or log in through /api/auth/login ' +
        '(cookie session; send x-csrf-token on writes). Errors are `{ statusCode, code, message }`. ' +
        'Realtime: Socket.IO namespace /live (see docs/events.md).',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key (mck_...)' })
    .addCookieAuth('mc_session')
    .build();
  const document = SwaggerModule.createDocument(app, doc);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json', swaggerOptions: { persistAuthorization: true } });
  return app;
}
