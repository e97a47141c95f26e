// Process entry: load the config, start the app, stop it on SIGTERM/SIGINT. The only process.exit.
import 'dotenv/config';
import { createApp, StartupError } from './app';
import { ConfigError, loadConfig } from './config/config';
import { MigrationError } from './db/migrate';
import { createLogger } from './logger';

/** After the drain, how long closing Apollo, Redis and the database may take before a forced exit. */
const CLOSE_GRACE_MS = 5000;

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
  // A repeated signal is ignored, not taken as "force": Ctrl-C under `npm start` delivers SIGINT
  // twice (the terminal signals the process group, and npm forwards it).
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const { shutdownDelayMs, shutdownTimeoutMs } = config;
    logger.info(
      { signal, shutdownDelayMs, shutdownTimeoutMs },
      'shutting down: finishing in-flight requests',
    );
    // If closing the clients hangs after the drain (a query stuck past its statement timeout), exit anyway.
    setTimeout(
      () => {
        logger.error('shutdown did not finish in time: exiting');
        process.exit(1);
      },
      shutdownDelayMs + shutdownTimeoutMs + CLOSE_GRACE_MS,
    ).unref();
    app.stop().then(
      ({ forced, cut }) => {
        if (forced) {
          logger.error({ cut }, `shutdown deadline passed: ${cut} in-flight request(s) cut`);
          process.exit(1);
        }
        logger.info('stopped');
        process.exit(0);
      },
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
