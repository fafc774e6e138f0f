import { BadRequestException, ValidationError } from '@nestjs/common';

/** One problem with one input field; `index` is the position in a batch, when there is one. */
export interface FieldError {
  index?: number;
  field: string;
  message: string;
}

/**
 * The service's 400: a message naming the first bad field and every problem in `errors`.
 * Body: {"statusCode":400,"error":"Bad Request","message":"...","errors":[...]}
 */
export class FieldValidationException extends BadRequestException {
  constructor(errors: FieldError[]) {
    const first = errors[0];
    const where =
      first.index === undefined ? first.field : `observations[${first.index}].${first.field}`;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    const text = first.message.startsWith(`${first.field} `)
      ? first.message
      : `${where}: ${first.message}`;
    super({
      statusCode: 400,
      error: 'Bad Request',
      message: `${text}${more}`,
      errors,
    });
  }
}

export function badParameter(field: string, message: string): FieldValidationException {
  return new FieldValidationException([{ field, message }]);
}

/** Flattens class-validator errors (query DTOs) into FieldErrors. */
export function fromValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    // Several constraints often share one message (limit: IsInt, Min, Max); list it once.
    const own = [...new Set(Object.values(error.constraints ?? {}))].map((message) => ({
      field,
      message,
    }));
    return [...own, ...fromValidationErrors(error.children ?? [], field)];
  });
}
