import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';

/**
 * The in-process events (one bus: @nestjs/event-emitter), name → payload. Each owner declares
 * its events next to the code that emits them, by declaration merging:
 * `declare module '../common/events' { interface AppEvents { 'x.happened': Payload } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AppEvents {}

export type AppEventName = keyof AppEvents & string;

/**
 * Emits `event` and waits for every listener. Use where ordering matters (the ingest's 2xx
 * waits for the cache version bump). A listener subscribed with `suppressErrors: false`
 * rejects this promise when it fails; others log their failure and never block the emitter.
 */
export async function emitAndWait<E extends AppEventName>(
  bus: EventEmitter2,
  event: E,
  payload: AppEvents[E],
): Promise<void> {
  await bus.emitAsync(event, payload);
}

/** Emits `event` without waiting (listeners that start work in the background). */
export function emitEvent<E extends AppEventName>(
  bus: EventEmitter2,
  event: E,
  payload: AppEvents[E],
): void {
  bus.emit(event, payload);
}

/**
 * Subscribes a provider method to `event`. `suppressErrors` is always stated: false where the
 * emitter must fail with its listener (the ingest is not acknowledged), true where a failing
 * listener is only logged.
 */
export function OnAppEvent<E extends AppEventName>(
  event: E,
  options: { suppressErrors: boolean },
): <M extends (payload: AppEvents[E]) => unknown>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void {
  return OnEvent(event, { suppressErrors: options.suppressErrors }) as never;
}
