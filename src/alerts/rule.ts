import { RuleKind, RuleMetric } from './dto/rule.dto';
import { QuietHours } from './quiet-hours';

/** A validated, normalized rule: what evaluation and the API work with. */
export interface RuleDef {
  id: string;
  name: string;
  kind: RuleKind;
  metric: RuleMetric;
  window: string;
  windowMs: number;
  scope: { trendKey: string | null; platform: string | null; region: string | null };
  threshold: number;
  minMentions: number;
  baselineHours: number;
  forMs: number;
  keepFiringForMs: number;
  repeatIntervalMs: number;
  severity: string;
  channelIds: string[];
  quietHours: QuietHours | null;
  enabled: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}
