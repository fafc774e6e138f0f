/**
 * Backups from the command line, through the same service as the API:
 *   npm run backup -- create [--verify]
 *   npm run backup -- list [--limit N]
 *   npm run backup -- verify <id>
 *   npm run backup -- restore <id> [--target <db>] [--force]
 *   npm run backup -- rotate
 * Results are printed as JSON on stdout; exit code 1 on failure, 2 on usage errors.
 */
import 'reflect-metadata';
import { ConsoleLogger, HttpException, INestApplicationContext, LogLevel } from '@nestjs/common';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { startCliApp } from '../cli-app';
import { cliLogLevels, printHelp, wantsHelp } from '../common/cli';
import { LifecycleService } from '../common/lifecycle.service';
import { BackupService } from './backup.service';

const USAGE =
  'usage: npm run backup -- create [--verify] | list [--limit N] | verify <id> | restore <id> [--target <db>] [--force] | rotate';

/** Nest's console logger writes warnings to stdout; stdout is reserved for the JSON result. */
class StderrLogger extends ConsoleLogger {
  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
  ): void {
    super.printMessages(messages, context, logLevel, 'stderr');
  }
}

function actor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

async function execute(
  backups: BackupService,
  command: string,
  id: string | undefined,
  values: Record<string, unknown>,
): Promise<{ output: unknown; ok: boolean }> {
  switch (command) {
    case 'create': {
      const view = await backups.createAndWait(actor(), {
        verify: values.verify === true,
        rotate: true,
      });
      const verified = values.verify !== true || view.verification?.ok === true;
      return { output: view, ok: view.status === 'succeeded' && verified };
    }
    case 'list':
      return { output: await backups.list(Number(values.limit ?? 100)), ok: true };
    case 'verify': {
      const result = await backups.verifyAndWait(id!, actor(), 'cli');
      return { output: result, ok: result.ok };
    }
    case 'restore': {
      const target = values.target as string | undefined;
      const result = await backups.restoreAndWait(
        id!,
        { targetDatabase: target, force: values.force === true },
        actor(),
        'cli',
      );
      return { output: result, ok: result.status === 'succeeded' };
    }
    case 'rotate':
      return { output: await backups.rotate(), ok: true };
    default:
      throw new Error(USAGE);
  }
}

async function main(): Promise<number> {
  if (wantsHelp()) printHelp(USAGE);
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      verify: { type: 'boolean' },
      limit: { type: 'string' },
      target: { type: 'string' },
      force: { type: 'boolean' },
    },
  });
  const [command, id] = positionals;
  const needsId = command === 'verify' || command === 'restore';
  if (
    !['create', 'list', 'verify', 'restore', 'rotate'].includes(command ?? '') ||
    (needsId && !id)
  ) {
    console.error(USAGE);
    return 2;
  }
  let app: INestApplicationContext | undefined;
  try {
    app = await startCliApp(new StderrLogger('backup', { logLevels: cliLogLevels() }));
    // The pg tools run in their own process group, so Ctrl-C reaches only this process: stop
    // them and let the job record `interrupted` (a second Ctrl-C ends the CLI at once).
    const lifecycle = app.get(LifecycleService);
    const stop = () => lifecycle.markStopping();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const { output, ok } = await execute(app.get(BackupService), command, id, values);
    process.stdout.write(JSON.stringify(output, null, 2) + '\n');
    return ok ? 0 : 1;
  } catch (error) {
    const message =
      error instanceof HttpException
        ? JSON.stringify(error.getResponse())
        : (error as Error).message;
    console.error(`backup ${command} failed: ${message}`);
    return 1;
  } finally {
    await app?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
