import { once } from 'node:events';
import { get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { TestApp, startTestApp } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import {
  OpenApiDocument,
  Schema,
  SchemaValidator,
  describePointer,
  redoclyLint,
  typeCheck,
  typesFromComponents,
} from '../support/openapi';
import { bearer, tokenFor } from '../support/tokens';
import { WebhookReceiver } from '../support/webhook-receiver';

/* eslint-disable @typescript-eslint/no-explicit-any -- walking an untyped JSON document */

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface Operation {
  method: (typeof METHODS)[number];
  path: string;
  op: Record<string, any>;
}

/**
 * The OpenAPI document at /api/docs-json, checked three ways: `redocly lint` (recommended rules)
 * finds nothing; every operation, called on the running service, answers with a documented
 * status and a body valid under the documented schema (ajv), for its 2xx and its errors; and
 * TypeScript types generated from the document type-check against real answers.
 */
describe('OpenAPI document', () => {
  let db: TestDatabase;
  let t: TestApp;
  let doc: OpenApiDocument;
  let validator: SchemaValidator;
  const extraDatabases: string[] = [];
  const receivers: WebhookReceiver[] = [];
  const admin = bearer(['admin']);
  const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000);

  beforeAll(async () => {
    db = await createTestDatabase('openapi');
    t = await startTestApp(db, { DB_MAX_CONNECTIONS: '4' });
    const res = await request(t.http).get('/api/docs-json');
    expect(res.status).toBe(200);
    doc = res.body as OpenApiDocument;
    validator = new SchemaValidator(doc);
    const ingest = await request(t.http)
      .post('/api/v1/trends/observations')
      .set(bearer(['ingest']))
      .send({
        observations: [
          {
            platform: 'twitter',
            trendKey: 'World Cup',
            observedAt: hour.toISOString(),
            mentions: 7,
            sentiment: 0.4,
          },
          {
            platform: 'tiktok',
            trendKey: 'world cup',
            observedAt: hour.toISOString(),
            mentions: 3,
          },
        ],
      });
    expect(res.status).toBe(200);
    expect(ingest.status).toBe(201);
  });

  afterAll(async () => {
    // Let background backups, verifications and restores finish before the app closes.
    for (let i = 0; i < 600; i++) {
      const rows = await db.query(
        `SELECT 1 FROM backups WHERE status = 'running'
            OR verification->>'status' = 'running' OR restore->>'status' = 'running'`,
      );
      if (rows.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await t?.close();
    for (const receiver of receivers) await receiver.stop();
    for (const name of extraDatabases)
      await db.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
    await db?.drop();
  });

  const operations = (): Operation[] =>
    Object.entries(doc.paths as Record<string, any>).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })),
    );
  const label = (o: Operation) => `${o.method.toUpperCase()} ${o.path}`;

  it('redocly lint (recommended rules): no errors, no warnings', async () => {
    const problems = await redoclyLint(doc);
    // Names the operation of each problem, so a new controller without the decorators is obvious.
    expect(
      problems.map((p) => `${p.severity} ${p.ruleId}: ${describePointer(p.pointer)}: ${p.message}`),
    ).toEqual([]);
  });

  it('describes every route, the operational ones included, with a 2xx and a 4xx answer', () => {
    const paths = Object.keys(doc.paths);
    for (const path of [
      '/metrics',
      '/health',
      '/health/live',
      '/health/ready',
      '/api/v1/admin/audit',
    ])
      expect(paths).toContain(path);
    const missing = operations().filter((o) => {
      const codes = Object.keys(o.op.responses ?? {});
      return !codes.some((c) => c.startsWith('2')) || !codes.some((c) => c.startsWith('4'));
    });
    expect(missing.map(label)).toEqual([]);
    expect(doc.components.securitySchemes).toEqual({
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    });
    expect(doc.servers.length).toBeGreaterThan(0);
    // The series `from` default is the one the code uses.
    const series = doc.paths['/api/v1/trends/{trendKey}/series'].get;
    const from = series.parameters.find((p: { name: string }) => p.name === 'from');
    expect(from.description).toContain('60 buckets for minute, 24 for hour, 30 for day');
  });

  /** The documented schema of (operation, status, content type); fails when undocumented. */
  const documented = (o: Operation, status: number, contentType: string): Schema => {
    const response = o.op.responses?.[String(status)];
    if (!response) throw new Error(`${label(o)} answered ${status}, which is not documented`);
    const media = contentType.split(';')[0].trim();
    const content = response.content?.[media];
    if (!content) throw new Error(`${label(o)} ${status}: content type ${media} is not documented`);
    return content.schema as Schema;
  };

  /** Checks one real answer against the document. */
  const conforms = (o: Operation, res: request.Response): void => {
    if (res.status === 204) {
      // No Content: documented, and really empty.
      expect([label(o), Boolean(o.op.responses['204']), res.text ?? '']).toEqual([
        label(o),
        true,
        '',
      ]);
      return;
    }
    const contentType = String(res.headers['content-type'] ?? '');
    const schema = documented(o, res.status, contentType);
    const body = contentType.startsWith('application/json') ? res.body : res.text;
    const error = validator.check(schema, body);
    if (error)
      throw new Error(`${label(o)} ${res.status}: ${error}\n${JSON.stringify(body).slice(0, 500)}`);
  };

  /** Status and content type of a GET whose body never ends; the connection is then dropped. */
  const streamHead = async (path: string, headers: Record<string, string>) => {
    const server = t.http.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      return await new Promise<{ status: number; contentType: string }>((resolve, reject) => {
        const req = httpGet({ host: '127.0.0.1', port, path, headers }, (res) => {
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type']),
          });
          req.destroy();
        });
        req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
        req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${path}`)));
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  };

  const call = (o: Operation, url: string, headers: Record<string, string>, body?: unknown) => {
    let req = request(t.http)[o.method](url).set(headers);
    if (body !== undefined) req = req.send(body as object);
    return req;
  };

  it('every operation answers as documented: 2xx, 400, 401, 403 and 404 bodies match the schemas', async () => {
    // A backup to read, verify and restore.
    const started = await request(t.http).post('/api/v1/admin/backups').set(admin);
    expect(started.status).toBe(202);
    const backupId = started.body.id as string;
    for (let i = 0; i < 600; i++) {
      const b = await request(t.http).get(`/api/v1/admin/backups/${backupId}`).set(admin);
      if (b.body.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const maintenance = await request(t.http)
      .post('/api/v1/admin/maintenance/run?task=analyze')
      .set(admin);
    expect(maintenance.status).toBe(200);
    const restoreTarget = `${db.name}_oa`;
    extraDatabases.push(restoreTarget);

    // Sample inputs per operation. An operation not listed here uses its documented examples
    // (parameter `example`, request body `example`): controllers added later can be walked by
    // documenting examples, or by adding a line here.
    const pathValues: Record<string, string> = {
      trendKey: 'world cup',
      table: 'trend_observations',
    };
    // Alerts: one of each to read, update and test, and another of each to delete.
    const receiver = new WebhookReceiver();
    await receiver.start();
    receivers.push(receiver);
    const created = async (path: string, body: object) => {
      const res = await request(t.http).post(path).set(admin).send(body);
      expect([path, res.status]).toEqual([path, 201]);
      return String(res.body.id);
    };
    const channelBody = { name: 'walk', type: 'webhook', url: receiver.url('/walk') };
    const channelId = await created('/api/v1/alerts/channels', channelBody);
    const spareChannelId = await created('/api/v1/alerts/channels', channelBody);
    const ruleBody = {
      name: 'walk',
      kind: 'threshold',
      window: '1h',
      threshold: 1000,
      channels: [channelId],
    };
    const ruleId = await created('/api/v1/alerts/rules', ruleBody);
    const spareRuleId = await created('/api/v1/alerts/rules', ruleBody);
    const until = new Date(Date.now() + 86_400_000).toISOString();
    const silenceBody = { ruleId, until, comment: 'walk' };
    const silenceId = await created('/api/v1/alerts/silences', silenceBody);
    const spareSilenceId = await created('/api/v1/alerts/silences', silenceBody);
    const idFor = (path: string, method: string) => {
      const spare = method === 'delete';
      if (path.includes('/alerts/rules/')) return spare ? spareRuleId : ruleId;
      if (path.includes('/alerts/channels/')) return spare ? spareChannelId : channelId;
      if (path.includes('/alerts/silences/')) return spare ? spareSilenceId : silenceId;
      return path.includes('/backups/')
        ? backupId
        : path.includes('/jobs/')
          ? String(maintenance.body.runId)
          : undefined;
    };
    const queries: Record<string, string> = {
      'GET /api/v1/trends/search': 'q=wor',
      'POST /api/v1/admin/maintenance/run': 'task=analyze',
      'POST /api/v1/admin/retention/run': 'dryRun=true',
    };
    const bodies: Record<string, unknown> = {
      'POST /api/v1/trends/observations': {
        observations: [
          { platform: 'twitter', trendKey: 'walk', observedAt: hour.toISOString(), mentions: 1 },
        ],
      },
      'PUT /api/v1/admin/retention/policies/{table}': { keepDays: 90 },
      'POST /api/v1/admin/backups/{id}/restore': {
        confirm: backupId,
        targetDatabase: restoreTarget,
      },
      'POST /api/v1/alerts/rules': ruleBody,
      'POST /api/v1/alerts/rules/preview': { ...ruleBody, at: hour.toISOString() },
      'PUT /api/v1/alerts/rules/{id}': ruleBody,
      'POST /api/v1/alerts/channels': channelBody,
      'POST /api/v1/alerts/silences': silenceBody,
    };
    const badBodies: Record<string, unknown> = {
      'POST /api/v1/trends/observations': { observations: [{ platform: 'Bad Slug!' }] },
      'PUT /api/v1/admin/retention/policies/{table}': { keepDays: 0 },
      'POST /api/v1/admin/backups/{id}/restore': { confirm: 'another id' },
      'POST /api/v1/alerts/rules': { ...ruleBody, kind: 'nope' },
      'POST /api/v1/alerts/rules/preview': { ...ruleBody, threshold: 'high' },
      'PUT /api/v1/alerts/rules/{id}': { ...ruleBody, window: '2h' },
      'POST /api/v1/alerts/channels': { ...channelBody, type: 'carrier-pigeon' },
      'POST /api/v1/alerts/silences': { ...silenceBody, until: 'tomorrow' },
    };

    const failures: string[] = [];
    const walked: string[] = [];
    for (const o of operations()) {
      const key = label(o);
      const params = (o.op.parameters ?? []) as { name: string; in: string; example?: unknown }[];
      const example = (name: string) =>
        String(params.find((p) => p.in === 'path' && p.name === name)?.example ?? '');
      const url = (missing = false) =>
        o.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
          encodeURIComponent(
            missing
              ? 'no-such-thing-0'
              : ((name === 'id' ? idFor(o.path, o.method) : undefined) ??
                  pathValues[name] ??
                  example(name)),
          ),
        );
      const query = queries[key] ? `?${queries[key]}` : '';
      bodies[key] ??= o.op.requestBody?.content?.['application/json']?.example;
      const secured = (o.op.security ?? doc.security ?? []).length > 0;
      try {
        // 401 without a token; public routes answer without one.
        const anonymous = await call(o, url() + query, {}, bodies[key]);
        if (secured) {
          expect(anonymous.status).toBe(401);
          conforms(o, anonymous);
          // 403 for a role that may not call it (admin routes: analyst; reads: ingest; ingest: analyst).
          // A stream the role may open never ends: ask it only with the role it refuses.
          const isStream = Boolean(o.op.responses['200']?.content?.['text/event-stream']);
          const wrong = await Promise.all(
            (isStream ? (['ingest'] as const) : (['analyst', 'ingest'] as const)).map((role) =>
              call(o, url() + query, { Authorization: `Bearer ${tokenFor([role])}` }, bodies[key]),
            ),
          );
          const denied = wrong.filter((r) => r.status === 403);
          expect(denied.length).toBeGreaterThan(0);
          denied.forEach((r) => conforms(o, r));
        } else {
          conforms(o, anonymous);
        }

        // The real call: a documented 2xx with a valid body. A stream (text/event-stream)
        // never ends: only its status and content type are checked.
        if (o.op.responses['200']?.content?.['text/event-stream']) {
          const head = await streamHead(url() + query, admin);
          expect([key, head.status, head.contentType]).toEqual([
            key,
            200,
            expect.stringMatching(/^text\/event-stream/),
          ]);
          walked.push(key);
          continue;
        }
        const ok = await call(o, url() + query, admin, bodies[key]);
        if (ok.status < 200 || ok.status >= 300)
          throw new Error(`${key} answered ${ok.status}: ${ok.text.slice(0, 300)}`);
        conforms(o, ok);
        if (o.op.responses['200']?.content?.['text/csv']) {
          const csv = await call(o, url() + query, { ...admin, Accept: 'text/csv' });
          expect(csv.headers['content-type']).toMatch(/^text\/csv/);
          conforms(o, csv);
        }

        // Documented errors, provoked.
        if (o.op.responses['400']) {
          // Public routes: an undecodable URL; the others: bad body or unknown parameter.
          const bad = !secured
            ? await call(o, `${url()}%zz`, {})
            : badBodies[key]
              ? await call(o, url(), admin, badBodies[key])
              : await call(o, `${url()}?bogus=1`, admin);
          expect([key, bad.status]).toEqual([key, 400]);
          conforms(o, bad);
        }
        if (o.op.responses['404'] && o.path.includes('{')) {
          const body = key.endsWith('/restore') ? { confirm: 'no-such-thing-0' } : bodies[key];
          const missing = await call(o, url(true) + query, admin, body);
          expect([key, missing.status]).toEqual([key, 404]);
          conforms(o, missing);
        }
        walked.push(key);
      } catch (error) {
        failures.push(`${key}: ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(walked).toHaveLength(operations().length);
    expect(walked.length).toBeGreaterThanOrEqual(34);
  });

  it('types generated from the document type-check against real answers (and reject a wrong one)', async () => {
    const answers: Record<string, string> = {
      TopResponseDto: '/api/v1/trends/top?window=24h',
      SeriesResponseDto: '/api/v1/trends/world%20cup/series',
      SearchResponseDto: '/api/v1/trends/search?q=w',
      MoversResponseDto: '/api/v1/analytics/movers',
      PlatformsResponseDto: '/api/v1/analytics/platforms',
      OverviewResponseDto: '/api/v1/analytics/overview?compare=previous_period',
      JobRunPageDto: '/api/v1/admin/jobs?limit=2',
      AuditPageDto: '/api/v1/admin/audit?limit=2',
      CacheStatsDto: '/api/v1/admin/cache',
    };
    let source = "import type * as Api from './api-types';\n";
    for (const [type, url] of Object.entries(answers)) {
      const res = await request(t.http).get(url).set(admin);
      expect([url, res.status]).toEqual([url, 200]);
      source += `export const ${type.replace(/Dto$/, '')}: Api.${type} = ${JSON.stringify(res.body)};\n`;
    }
    const types = typesFromComponents(doc);
    expect(await typeCheck({ 'api-types.ts': types, 'answers.ts': source })).toBe('');

    // The generated types are not vacuous: a field of the wrong type or an unknown one fails.
    const wrong =
      "import type * as Api from './api-types';\n" +
      "export const a: Api.TimeRangeDto = { from: 1, to: '2026-01-01T00:00:00Z' };\n" +
      'export const b: Api.IngestResponseDto = { accepted: 1, duplicates: 0, extra: true };\n';
    const output = await typeCheck({ 'api-types.ts': types, 'wrong.ts': wrong });
    expect(output).toMatch(/wrong\.ts\(2,\d+\): error TS2322/);
    expect(output).toMatch(/wrong\.ts\(3,\d+\): error TS2353/);
  });
});
