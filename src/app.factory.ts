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
import { CacheFastPath, ROUTER_OPTIONS } from './cache/cache-fast-path';
import { HttpFrontDoor } from './common/http-server';
import { LifecycleService } from './common/lifecycle.service';
import { RequestLog } from './common/request-log';
import { requestIdFrom } from './common/request-id';
import { HELMET_OPTIONS } from './common/security-headers';
import { SERVICE_VERSION } from './common/version';
import { createValidationPipe } from './common/validation.pipe';
import { AppConfig } from './config/config';
import { dashboardPlugin, defaultDashboardDir } from './dashboard/dashboard.static';
import { DatabaseService } from './database/database.service';
import { DemoDataService } from './trends/demo/demo-data.service';

/** Builds the Nest application on Fastify (not yet listening, database not yet started). */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const frontDoor = new HttpFrontDoor();
  const adapter = new FastifyAdapter({
    // Our own node:http server, so cache hits can be answered before Fastify (see below).
    serverFactory: frontDoor.serverFactory,
    bodyLimit: config.ingest.maxBodyBytes,
    trustProxy: true,
    // Middie (Nest middleware, i.e. the pino-http request binding) is registered below, after
    // our own hooks.
    skipMiddie: true,
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => requestIdFrom(req),
    routerOptions: ROUTER_OPTIONS,
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
  // Cache hits are answered before Fastify; its router learns every route as Fastify does
  // (Nest registers them in app.init(), after this).
  const fastPath = app.get(CacheFastPath);
  fastify.addHook('onRoute', (route) =>
    fastPath.addRoute(route.method, route.url, route.constraints),
  );
  frontDoor.useEarlyHandler((req, res, next) => fastPath.handle(req, res, next));
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

  await app.register(helmet, HELMET_OPTIONS);
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

  await app.register(middie);
  app.get(RequestLog).register(fastify);

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
