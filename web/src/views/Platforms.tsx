import { useState } from 'preact/hooks';
import { ShareBarChart } from '../components/charts';
import { Section, Select, Status } from '../components/ui';
import { useLoad } from '../context';
import { api } from '../lib/api';
import { formatCount, formatPercent, formatSentiment, formatTime } from '../lib/format';
import { OverviewAnswer, PlatformsAnswer } from '../types';

const RANGES = [
  { value: '24', label: 'last 24 hours' },
  { value: '168', label: 'last 7 days' },
  { value: '720', label: 'last 30 days' },
];

/** [now − hours, end of the current hour): whole hours, so answers come from the rollups. */
export function hourRange(hours: number, now = Date.now()): { from: string; to: string } {
  const hour = 3600_000;
  const to = Math.ceil(now / hour) * hour;
  return { from: new Date(to - hours * hour).toISOString(), to: new Date(to).toISOString() };
}

export function PlatformsView() {
  const [hours, setHours] = useState('24');
  const platforms = useLoad(
    (signal) =>
      api<PlatformsAnswer>('/api/v1/analytics/platforms', {
        query: hourRange(Number(hours)),
        signal,
      }),
    [hours],
    'trends',
  );
  const overview = useLoad(
    (signal) =>
      api<OverviewAnswer>('/api/v1/analytics/overview', {
        query: hourRange(Number(hours)),
        signal,
      }),
    [hours],
    'trends',
  );
  const items = platforms.data?.items ?? [];
  const totals = overview.data?.totals;
  return (
    <div class="view">
      <Section title="Overview" id="overview">
        <form class="controls" onSubmit={(e) => e.preventDefault()}>
          <Select
            id="platforms-range"
            label="Range"
            value={hours}
            options={RANGES}
            onChange={setHours}
          />
        </form>
        <Status loading={overview.loading && !overview.data} error={overview.error} />
        {totals && (
          <dl class="tiles" data-testid="overview-totals">
            <div>
              <dt>Mentions</dt>
              <dd>{formatCount(totals.mentions)}</dd>
            </div>
            <div>
              <dt>Engagement</dt>
              <dd>{formatCount(totals.engagement)}</dd>
            </div>
            <div>
              <dt>Observations</dt>
              <dd>{formatCount(totals.observations)}</dd>
            </div>
            <div>
              <dt>Distinct trends</dt>
              <dd>{formatCount(totals.distinctTrends)}</dd>
            </div>
            <div>
              <dt>Sentiment</dt>
              <dd>{formatSentiment(totals.sentiment)}</dd>
            </div>
          </dl>
        )}
      </Section>
      <Section title="Share of mentions by platform" id="platforms">
        {platforms.data && (
          <p class="caption">
            {formatTime(platforms.data.from)} – {formatTime(platforms.data.to)}
          </p>
        )}
        <Status
          loading={platforms.loading && !platforms.data}
          error={platforms.error}
          empty={platforms.data && items.length === 0}
          emptyText="No observations in this range."
        />
        {items.length > 0 && (
          <>
            <ShareBarChart
              testId="platform-chart"
              label="Share of mentions per platform"
              categories={items.map((p) => p.platform)}
              values={items.map((p) => p.share)}
            />
            <div class="table-wrap">
              <table data-testid="platforms-table">
                <thead>
                  <tr>
                    <th scope="col">Platform</th>
                    <th scope="col" class="num">
                      Mentions
                    </th>
                    <th scope="col" class="num">
                      Engagement
                    </th>
                    <th scope="col" class="num">
                      Observations
                    </th>
                    <th scope="col" class="num">
                      Distinct trends
                    </th>
                    <th scope="col" class="num">
                      Share
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((p) => (
                    <tr key={p.platform}>
                      <td>{p.platform}</td>
                      <td class="num">{formatCount(p.mentions)}</td>
                      <td class="num">{formatCount(p.engagement)}</td>
                      <td class="num">{formatCount(p.observations)}</td>
                      <td class="num">{formatCount(p.distinctTrends)}</td>
                      <td class="num" data-col="share">
                        {formatPercent(p.share)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </Section>
    </div>
  );
}
