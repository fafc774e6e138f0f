import type { LogLevel } from '@nestjs/common';

/**
 * Nest log levels for a one-shot CLI: errors and warnings only, so stdout carries the result
 * and no framework start-up lines; everything with LOG_LEVEL=debug (or trace).
 */
export function cliLogLevels(level = process.env.LOG_LEVEL): LogLevel[] {
  return level === 'debug' || level === 'trace'
    ? ['error', 'warn', 'log', 'debug', 'verbose']
    : ['error', 'warn'];
}

/** `--help` / `-h` anywhere on the command line (checked before any other parsing). */
export function wantsHelp(args: string[] = process.argv.slice(2)): boolean {
  return args.includes('--help') || args.includes('-h');
}

/** Prints the usage on stdout and exits 0: help that was asked for is not an error. */
export function printHelp(usage: string): never {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
