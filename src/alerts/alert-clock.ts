import { Injectable } from '@nestjs/common';

/** The evaluation clock; tests replace `now` to control time (windows end at t = now()). */
@Injectable()
export class AlertClock {
  now(): Date {
    return new Date();
  }
}
