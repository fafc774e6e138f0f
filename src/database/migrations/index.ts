import { CreateSchema1795305600000 } from './1795305600000-CreateSchema';
import { AddBackupVerification1795478400000 } from './1795478400000-AddBackupVerification';
import { CreateAlerts1796000000000 } from './1796000000000-CreateAlerts';
import { AddTrendDisplayNames1796100000000 } from './1796100000000-AddTrendDisplayNames';
import { AddBackupOffsiteAndTasks1796200000000 } from './1796200000000-AddBackupOffsiteAndTasks';

/**
 * Every migration, in order. Listed explicitly (not globbed) so ts-node, Jest and the
 * compiled build load the same classes; add new migrations here.
 */
export const MIGRATIONS = [
  CreateSchema1795305600000,
  AddBackupVerification1795478400000,
  CreateAlerts1796000000000,
  AddTrendDisplayNames1796100000000,
  AddBackupOffsiteAndTasks1796200000000,
];
