import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { AuthService } from './auth/auth.service';
import { startBanner } from './common/logging/startup-logger';
import { loadConfig } from './config/app-config';
import { LlmRouterService } from './llm-router/llm-router.service';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  await app.listen(config.PORT, config.HOST);
  const host = config.HOST === '0.0.0.0' ? 'localhost' : config.HOST;
  const url = `http://${host}:${config.PORT}`;
  const generatedPassword = app.get(AuthService).takeGeneratedAdminPassword();
  // a configured Ollama that does not answer is said at start, not discovered when the first task fails
  const warnings = await app
    .get(LlmRouterService)
    .startupWarnings()
    .catch((e: unknown) => [`LLM provider check failed: ${e instanceof Error ? e.message : String(e)}`]);
  for (const w of warnings) new Logger('MissionControl').warn(w);
  process.stdout.write(
    startBanner({
      url,
      username: config.ADMIN_USERNAME,
      generatedPassword,
      storage: config.DATABASE_URL ? 'PostgreSQL' : config.SQLITE_PATH,
      warnings,
    }) + '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
