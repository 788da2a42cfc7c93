import fastifyCookie from '@fastify/cookie';
import { QuietBootLogger } from './common/logging/startup-logger';
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { AppModule, webDistToServe } from './app.module';
import { AppError } from './common/app-error';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import {
  clientErrorHandler,
  errorBody,
  findUnstorableText,
  frameworkErrorHandler,
  jsonDepthExceeds,
  MAX_JSON_DEPTH,
  trustProxyOption,
} from './common/http-edge';
import type { AppConfig } from './config/app-config';
import { EventLogWriter } from './event-log/event-log.writer';
import { EventLogReader } from './event-log/event-log.reader';
import { RealtimeIoAdapter } from './realtime/realtime-io.adapter';

const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;

/**
 * Runs a helmet middleware once against a recording response and returns the headers it sets (lower-case name ->
 * value). Valid because helmet's output is a pure function of its options when no CSP nonce is generated per request.
 * @throws Error when the middleware calls back with an error or does not call back synchronously
 */
export function securityHeaderSet(middleware: ReturnType<typeof helmet>): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string | number | string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
    getHeader: (name: string) => headers[name.toLowerCase()],
  };
  let called = false;
  middleware({ headers: {} } as never, res as never, (err?: unknown) => {
    if (err) throw err instanceof Error ? err : new Error(String(err));
    called = true;
  });
  if (!called) throw new Error('helmet did not complete synchronously');
  return headers;
}

/** Max JSON body accepted by the API, in bytes (256 KiB); larger bodies get 413 `request/payload_too_large`. */
export const JSON_BODY_LIMIT_BYTES = 256 * 1024;

/**
 * Builds the configured Nest application (not listening) on Fastify (ADR 0006): security headers, cookies, body
 * limit, validation, error filter, Socket.IO adapter (Redis when REDIS_URL is set), the dashboard's static files,
 * Swagger at /api/docs and /api/docs-json.
 */
export async function createApp(config: AppConfig): Promise<INestApplication> {
  // one helmet middleware built once and run as a callback hook (@fastify/helmet rebuilds helmet on every request)
  const securityHeaders = helmet({
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
  });
  // helmet's headers depend only on its options (no nonces here), so helmet runs once at boot and every response gets
  // the same header set through Fastify's reply headers (one object merge instead of 13 middlewares per request)
  const headers = securityHeaderSet(securityHeaders);
  const adapter = new FastifyAdapter({
    bodyLimit: JSON_BODY_LIMIT_BYTES,
    // X-Forwarded-For only from configured proxies (TRUST_PROXY, default none): else any client picks its own IP
    trustProxy: trustProxyOption(config.TRUST_PROXY),
    // router and HTTP-parser errors never reach Nest's filter or the onRequest hook: same shape, same headers
    frameworkErrors: frameworkErrorHandler(headers),
    clientErrorHandler: clientErrorHandler(headers),
    // no Nest middleware in this app (security headers and cookies are Fastify hooks): skip @fastify/middie's
    // per-request hook. Adding a Nest middleware later means removing this line.
    skipMiddie: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    // route mapping and module init lines at debug (QuietBootLogger), so the start ends with main.ts's banner
    logger: new QuietBootLogger(LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(config.LOG_LEVEL) + 1)),
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (req, reply, done) => {
    reply.headers(headers);
    // a percent-encoded NUL in the path or query: text PostgreSQL cannot store, refused for every route alike
    if (req.url.includes('%00')) {
      void reply.code(400).send(errorBody(400, 'request/invalid_text', 'The URL contains a NUL character (%00)'));
      return;
    }
    done();
  });
  await app.register(fastifyCookie);
  // Fastify's JSON parser (prototype-poisoning checks included), with malformed or empty bodies as a stable
  // `request/malformed_json` (Nest would turn Fastify's error into a bare 400); over-limit bodies get 413 from Fastify.
  // Before parsing: nesting deeper than MAX_JSON_DEPTH is `request/too_deep` (deep arrays made validators recurse
  // into a 500). After: the body must be an object or array (`null` is not `{}`), and no string or key may hold
  // a NUL or a lone surrogate (`request/invalid_text`: PostgreSQL cannot store them, SQLite would store garbage).
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/json', { bodyLimit: JSON_BODY_LIMIT_BYTES }, (req, body, done) => {
    const text = typeof body === 'string' ? body : String(body);
    if (jsonDepthExceeds(text)) {
      done(new AppError('request/too_deep', `JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`, 400));
      return;
    }
    void parseJson(req as never, text as never, (err, value) => {
      if (err) return done(new AppError('request/malformed_json', 'Malformed JSON body', 400));
      if (value === null || typeof value !== 'object') {
        return done(new AppError('request/invalid_body', 'The JSON body must be an object', 400));
      }
      const bad = findUnstorableText(value);
      if (bad) return done(new AppError('request/invalid_text', `${bad} holds a NUL character or an unpaired UTF-16 surrogate`, 400));
      done(null, value);
    });
  });
  const webDist = webDistToServe(config);
  // built files get one exact route each (wildcard off); other page paths fall back to index.html (SpaController)
  if (webDist) app.useStaticAssets({ root: webDist, prefix: '/', wildcard: false, index: ['index.html'] });
  const origins = config.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
  if (origins.length > 0) app.enableCors({ origin: origins, credentials: true });
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }),
  );
  const events = app.get(EventLogWriter);
  app.useGlobalFilters(
    new AllExceptionsFilter(({ method, path, message }) => {
      void events
        .append([{ type: 'system.error', source: 'http', data: { message: `unhandled error on ${method} ${path}`, error: message } }])
        .catch(() => undefined);
    }),
  );
  const io = new RealtimeIoAdapter(app, config);
  await io.connectRedis(await app.get(EventLogReader).readMeta('epoch'));
  app.useWebSocketAdapter(io);
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
