// What the database scripts read: the environment and .env, as the services do. A wrong value ends the script with
// one line naming it (never the password), not a stack trace.
import { loadConfig, type Config } from '../src/config/config.ts';
import { ConfigError } from '../src/errors.ts';

export function databaseScriptConfig(script: string): Config {
  try {
    process.loadEnvFile();
  } catch {
    // no .env file: the environment alone says where the database is
  }
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${script} failed: ${error.message}`);
    process.exit(1);
  }
}
