import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { BadRequestException, Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import helmet from '@fastify/helmet';
import middie from '@fastify/middie';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { installConnectionDrain } from './common/connection-drain';
import { finishOpenApiDocument } from './common/openapi';
import { installOversizeBodyDrain } from './common/oversize-body';
import { CacheFastPath } from './cache/cache-fast-path';
import { LifecycleService } from './common/lifecycle.service';
import { RequestLog } from './common/request-log';
import { requestIdFrom } from './common/request-id';
import { SERVICE_VERSION } from './common/version';
import { createValidationPipe } from './common/validation.pipe';
import { AppConfig } from './config/config';
import { dashboardPlugin, defaultDashboardDir } from './dashboard/dashboard.static';
import { DatabaseService } from './database/database.service';
import { DemoDataService } from './trends/demo/demo-data.service';

/** Builds the Nest application on Fastify (not yet listening, database not yet started). */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.ingest.maxBodyBytes,
    trustProxy: true,
    // Middie (Nest middleware, i.e. the pino-http request binding) is registered below, after
    // the cache fast path's hook, so that a cache hit skips it.
    skipMiddie: true,
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => requestIdFrom(req),
    // Trend keys are up to 200 characters (800 bytes of UTF-8) in the series path.
    routerOptions: { maxParamLength: 1024 },
    // Router-level errors (undecodable URL, overlong parameter) in the service's error shape.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      void reply.status(400).send({
        statusCode: 400,
        error: 'Bad Request',
        message: error.code === 'FST_ERR_BAD_URL' ? 'Malformed URL' : error.message,
        requestId: request.id,
      });
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config),
    adapter,
    {
      bufferLogs: true,
      bodyParser: false, // our own JSON-only parsers below
    },
  );
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(createValidationPipe());

  const fastify = app.getHttpAdapter().getInstance();
  // Anything but JSON is a 400 (SPEC §4), not Fastify's 415.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(new BadRequestException('Body must be a JSON object'), undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(new BadRequestException(`Malformed JSON body: ${(error as Error).message}`), undefined);
    }
  });
  fastify.addContentTypeParser('*', (_req, _payload, done) =>
    done(new BadRequestException('Content-Type must be application/json'), undefined),
  );
  fastify.addHook('onSend', async (request, reply) => {
    void reply.header('X-Request-Id', request.id);
  });
  installConnectionDrain(app, app.get(LifecycleService));
  installOversizeBodyDrain(fastify, config.ingest.maxBodyBytes);

  await app.register(helmet, { contentSecurityPolicy: false });
  if (config.dashboard.enabled) {
    await app.register(dashboardPlugin, { dir: config.dashboard.dir ?? defaultDashboardDir() });
  }
  if (config.corsOrigins.length) {
    app.enableCors({
      origin: config.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
      credentials: true,
      exposedHeaders: ['X-Request-Id', 'X-Cache', 'Age', 'Retry-After'],
    });
  }

  // After helmet and CORS (their headers are on every answer), before Nest's middleware layer.
  const fastPath = app.get(CacheFastPath);
  fastify.addHook('onRequest', (request, reply, done) => fastPath.onRequest(request, reply, done));
  await app.register(middie);
  new RequestLog().register(fastify);

  SwaggerModule.setup('api/docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: 'api/docs-json',
  });
  return app;
}

/** The OpenAPI document of the application (served at /api/docs-json). */
export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('trend-service')
      .setDescription(
        'Trend ingestion and analytics API. Bearer JWT with roles admin, analyst, ingest. ' +
          'Errors share one body: {statusCode, error, message, errors?, requestId}.',
      )
      .setVersion(SERVICE_VERSION)
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
      .build(),
  );
  return finishOpenApiDocument(document);
}

/**
 * Connects the database (retrying), runs migrations, loads demo data into an empty embedded
 * database, then marks the process ready.
 */
export async function startServices(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  await app.get(DatabaseService).start();
  if (config.db.loadDemoData) {
    const loaded = await app.get(DemoDataService).loadIfEmpty();
    if (loaded) new NestLogger('Bootstrap').log(`demo data set loaded (${loaded} observations)`);
  }
  app.get(LifecycleService).markReady();
}
