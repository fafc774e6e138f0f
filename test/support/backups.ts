import request from 'supertest';
import { TestApp } from './app';
import { bearer } from './tokens';

type Body = Record<string, unknown>;

/** Polls GET /backups/{id} until `pick(body)` is no longer running. */
async function pollBackup(
  t: TestApp,
  id: string,
  done: (body: Body) => boolean,
  what: string,
): Promise<Body> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const res = await request(t.http)
      .get(`/api/v1/admin/backups/${id}`)
      .set(bearer(['admin']));
    if (res.status !== 200) throw new Error(`GET backup ${id}: ${res.status} ${res.text}`);
    if (done(res.body as Body)) return res.body as Body;
    if (Date.now() > deadline) throw new Error(`${what} of ${id} still running`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const taskOver = (field: 'verification' | 'restore') => (body: Body) => {
  const task = body[field] as Body | null;
  return task !== null && task.status !== 'running';
};

/** POST verify (202 with the id), then the verification as recorded on the backup. */
export async function verifyBackup(t: TestApp, id: string): Promise<Body> {
  const res = await request(t.http)
    .post(`/api/v1/admin/backups/${id}/verify`)
    .set(bearer(['admin']));
  if (res.status !== 202) throw new Error(`verify ${id}: ${res.status} ${res.text}`);
  if (res.body.id !== id) throw new Error(`verify answered ${JSON.stringify(res.body)}`);
  const verification = (await pollBackup(t, id, taskOver('verification'), 'verification'))
    .verification as Body;
  sameSource(res.body as Body, verification);
  return verification;
}

/** POST restore (202 with the id and target), then the restore as recorded on the backup. */
export async function restoreBackup(t: TestApp, id: string, body: Body): Promise<Body> {
  const res = await request(t.http)
    .post(`/api/v1/admin/backups/${id}/restore`)
    .set(bearer(['admin']))
    .send(body);
  if (res.status !== 202) throw new Error(`restore ${id}: ${res.status} ${res.text}`);
  const restore = (await pollBackup(t, id, taskOver('restore'), 'restore')).restore as Body;
  sameSource(res.body as Body, restore);
  if (restore.targetDatabase !== res.body.targetDatabase)
    throw new Error(
      `restore target ${String(restore.targetDatabase)} != ${String(res.body.targetDatabase)}`,
    );
  return restore;
}

/** The 202 names the copy the task then reads (SPEC §15 `source`). */
function sameSource(accepted: Body, task: Body): void {
  if (task.source !== undefined && accepted.source !== task.source)
    throw new Error(
      `accepted with source ${String(accepted.source)}, ran on ${String(task.source)}`,
    );
}
