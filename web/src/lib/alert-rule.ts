/** The alert-rule editor's form state and the SPEC §12 body it sends (pure, unit-tested). */
export interface RuleForm {
  name: string;
  kind: string;
  metric: string;
  window: string;
  threshold: string;
  minMentions: string;
  trendKey: string;
  platform: string;
  region: string;
  severity: string;
  channels: string[];
}

/** The form as the API's rule body; numbers are sent as typed so the API names bad ones. */
export function ruleBody(form: RuleForm): Record<string, unknown> {
  const nullable = (v: string) => (v.trim() === '' ? null : v.trim());
  const numeric = (v: string) =>
    v.trim() === '' || Number.isNaN(Number(v)) ? v.trim() || null : Number(v);
  const body: Record<string, unknown> = {
    name: form.name.trim(),
    kind: form.kind,
    metric: form.metric,
    window: form.window,
    scope: {
      trendKey: nullable(form.trendKey),
      platform: nullable(form.platform),
      region: nullable(form.region),
    },
    threshold: numeric(form.threshold),
    severity: form.severity,
    channels: form.channels,
    enabled: true,
  };
  if (form.minMentions.trim() !== '') body.minMentions = numeric(form.minMentions);
  return body;
}

/** The writable fields of SPEC §12's rule body; server-side fields (id, timestamps) are left out. */
export const RULE_FIELDS = [
  'name',
  'kind',
  'metric',
  'window',
  'scope',
  'threshold',
  'minMentions',
  'baselineHours',
  'for',
  'keepFiringFor',
  'repeatInterval',
  'severity',
  'channels',
  'quietHours',
  'enabled',
] as const;

/** A stored rule as a PUT body (a PUT replaces the rule, so every writable field is sent). */
export function editableRule(rule: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of RULE_FIELDS) if (rule[field] !== undefined) body[field] = rule[field];
  return body;
}
