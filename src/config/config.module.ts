import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppConfig } from './config';

/** Injection token of the validated, typed configuration object. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Exposes the validated AppConfig to every module. @nestjs/config is registered too, fed with
 * the same object, so libraries expecting ConfigService find it.
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ app: config })],
          isGlobal: true,
        }),
      ],
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
