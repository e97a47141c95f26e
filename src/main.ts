// Process entry: load the config, start the app, stop it on SIGTERM/SIGINT. The only process.exit.
import 'dotenv/config';
import { createApp, StartupError } from './app';
import { ConfigError, loadConfig } from './config/config';
import { MigrationError } from './db/migrate';
import { createLogger } from './logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error:\n${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config);
  const app = createApp(config, { logger, processMetrics: true });
  try {
    await app.start();
  } catch (error) {
    if (error instanceof StartupError || error instanceof MigrationError) logger.fatal(error.message);
    else logger.fatal({ err: error }, 'failed to start');
    await app.stop().catch(() => {});
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
