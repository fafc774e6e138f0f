/**
 * Runs a job by hand, through the same service methods (and the same lock and job_runs row)
 * as the cron and the admin endpoints:
 *   npm run jobs -- run partitions [--dry-run]
 *   npm run jobs -- run index-maintenance [--task analyze|reindex|all]
 *   npm run jobs -- run alerts
 *   npm run jobs -- list [--job NAME] [--limit N]
 * Exit codes: 0 succeeded (or a dry run), 1 failed, 2 usage, 3 skipped because another
 * replica holds the job's lock.
 */
import 'reflect-metadata';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { EvaluatorService } from '../alerts/evaluator.service';
import { AuditService } from '../audit/audit.service';
import { startCliApp } from '../cli-app';
import { printHelp, wantsHelp } from '../common/cli';
import {
  MAINTENANCE_TASKS,
  MaintenanceService,
  MaintenanceTask,
} from '../maintenance/maintenance.service';
import { RetentionService } from '../retention/retention.service';
import { JOB_NAMES } from './job-names';
import { JobsRepository } from './jobs.repository';

const USAGE = `usage: npm run jobs -- run partitions [--dry-run]
       npm run jobs -- run index-maintenance [--task ${MAINTENANCE_TASKS.join('|')}]
       npm run jobs -- run alerts
       npm run jobs -- list [--job ${JOB_NAMES.join('|')}] [--limit N]
(backups have their own CLI: npm run backup -- create)
Exit codes: 0 done (or a dry run), 1 failed, 2 usage, 3 skipped (another replica holds the lock).
LOG_LEVEL=debug shows the framework's logs.`;

function usage(message?: string): never {
  if (message) console.error(message);
  console.error(USAGE);
  process.exit(2);
}

async function main(): Promise<void> {
  if (wantsHelp()) printHelp(USAGE);
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean', default: false },
      task: { type: 'string', default: 'all' },
      job: { type: 'string' },
      limit: { type: 'string', default: '20' },
    },
  });
  const [command, job] = positionals;
  if (command !== 'run' && command !== 'list') usage();
  if (command === 'run' && job !== 'partitions' && job !== 'index-maintenance' && job !== 'alerts')
    usage(`unknown job ${job ?? ''}`);
  if (!MAINTENANCE_TASKS.includes(values.task as MaintenanceTask))
    usage(`unknown task ${values.task}`);

  const app = await startCliApp();
  let code = 0;
  try {
    let output: unknown;
    if (command === 'list') {
      const page = await app
        .get(JobsRepository)
        .list({ job: values.job }, undefined, Number(values.limit) || 20);
      output = page.items;
    } else {
      // Like the admin endpoints, a manual run is recorded in admin_audit_log.
      const audit = app.get(AuditService);
      const actor = `cli:${userInfo().username}`;
      // A dry run returns a plan, a real run its job outcome.
      const summary = (o: object) => {
        const run = o as { runId?: string; status?: string };
        return run.status ? { runId: run.runId, status: run.status } : {};
      };
      output =
        job === 'alerts'
          ? await audit.around(
              actor,
              'alerts.run',
              'alerts',
              {},
              () => app.get(EvaluatorService).run('cli'),
              summary,
            )
          : job === 'partitions'
            ? await audit.around(
                actor,
                'retention.run',
                'partitions',
                { dryRun: values['dry-run'] },
                () => app.get(RetentionService).run('cli', values['dry-run']),
                summary,
              )
            : await audit.around(
                actor,
                'maintenance.run',
                'index-maintenance',
                { task: values.task },
                () => app.get(MaintenanceService).run('cli', values.task as MaintenanceTask),
                summary,
              );
    }
    process.stdout.write(JSON.stringify(output, null, 2) + '\n');
    const status = (output as { status?: string }).status;
    code = status === 'failed' ? 1 : status === 'skipped_locked' ? 3 : 0;
  } finally {
    await app.close();
  }
  process.exit(code);
}

main().catch((error: Error) => {
  console.error(`jobs: ${error.message}`);
  process.exit(1);
});
