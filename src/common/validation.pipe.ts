import { ValidationPipe } from '@nestjs/common';
import { FieldValidationException, fromValidationErrors } from './field-errors';

/**
 * Query and body DTOs: transform to typed values, reject unknown parameters, and answer with
 * the service's 400 naming each bad parameter.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    exceptionFactory: (errors) => new FieldValidationException(fromValidationErrors(errors)),
  });
}
