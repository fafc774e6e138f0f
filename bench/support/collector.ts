/**
 * A collector's batch for the load benches: `rate` observations of `keys` trends, observed in
 * the second before `tick`, POSTed to the service. Returns the HTTP status.
 */
export async function postCollectorBatch(
  url: string,
  token: string,
  options: { rate: number; offset: number; keys: number; tick: number },
): Promise<number> {
  const { rate, offset, keys, tick } = options;
  const observations = Array.from({ length: rate }, (_, i) => ({
    platform: ['x', 'tiktok', 'reddit'][i % 3],
    trendKey: `trend ${(offset + i) % keys}`,
    observedAt: new Date(tick - 1000 + (i % 1000)).toISOString(),
    mentions: 1 + ((offset + i) % 50),
  }));
  const res = await fetch(`${url}/api/v1/trends/observations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: token },
    body: JSON.stringify({ observations }),
  });
  await res.text();
  return res.status;
}
