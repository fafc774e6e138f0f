import { useEffect, useState } from 'preact/hooks';
import { TimeSeriesChart } from '../components/charts';
import { Section, Select, Status, TextInput } from '../components/ui';
import { useDebounced, useLoad } from '../context';
import { api } from '../lib/api';
import { formatCount, formatGrowth, formatSentiment, formatTime } from '../lib/format';
import { SearchItem, SeriesAnswer, TopAnswer } from '../types';

export const WINDOWS = ['15m', '1h', '6h', '24h', '7d', '30d', '90d'] as const;
const INTERVALS = ['minute', 'hour', 'day'] as const;

export function TrendsView() {
  const [window, setWindow] = useState('24h');
  const [platform, setPlatform] = useState('');
  const [region, setRegion] = useState('');
  const [selected, setSelected] = useState<{ key: string; name: string } | null>(null);
  const platformFilter = useDebounced(platform.trim());
  const regionFilter = useDebounced(region.trim());

  // Rows carry the window they were loaded for: the selector may already show the next one.
  const top = useLoad(
    (signal) =>
      api<TopAnswer>('/api/v1/trends/top', {
        query: { window, platform: platformFilter, region: regionFilter, limit: 20 },
        signal,
      }).then((answer) => ({ ...answer, loadedWindow: window })),
    [window, platformFilter, regionFilter],
    'trends',
  );

  useEffect(() => {
    if (!selected && top.data?.items[0]) {
      setSelected({ key: top.data.items[0].trendKey, name: top.data.items[0].displayName });
    }
  }, [top.data, selected]);

  return (
    <div class="view">
      <Section title="Top trends" id="top">
        <form class="controls" onSubmit={(e) => e.preventDefault()}>
          <Select
            id="top-window"
            label="Window"
            value={window}
            options={WINDOWS}
            onChange={setWindow}
          />
          <TextInput
            id="top-platform"
            label="Platform"
            value={platform}
            placeholder="all"
            onChange={setPlatform}
          />
          <TextInput
            id="top-region"
            label="Region"
            value={region}
            placeholder="all"
            onChange={setRegion}
          />
        </form>
        {top.data && (
          <p class="caption">
            {formatTime(top.data.window.from)} – {formatTime(top.data.window.to)}, compared with the
            window before
          </p>
        )}
        <Status
          loading={top.loading && !top.data}
          error={top.error}
          empty={top.data?.items.length === 0}
          emptyText="No observations in this window."
        />
        {top.data && top.data.items.length > 0 && (
          <div class="table-wrap">
            <table data-testid="top-table" data-window={top.data.loadedWindow}>
              <thead>
                <tr>
                  <th scope="col" class="num">
                    #
                  </th>
                  <th scope="col">Trend</th>
                  <th scope="col" class="num">
                    Mentions
                  </th>
                  <th scope="col" class="num">
                    Engagement
                  </th>
                  <th scope="col" class="num">
                    Sentiment
                  </th>
                  <th scope="col" class="num">
                    Previous
                  </th>
                  <th scope="col" class="num">
                    Growth
                  </th>
                </tr>
              </thead>
              <tbody>
                {top.data.items.map((item) => (
                  <tr
                    key={item.trendKey}
                    data-trend-key={item.trendKey}
                    aria-current={selected?.key === item.trendKey ? 'true' : undefined}
                  >
                    <td class="num">{item.rank}</td>
                    <td>
                      <button
                        type="button"
                        class="link"
                        onClick={() => setSelected({ key: item.trendKey, name: item.displayName })}
                      >
                        {item.displayName}
                      </button>
                    </td>
                    <td class="num" data-col="mentions">
                      {formatCount(item.mentions)}
                    </td>
                    <td class="num" data-col="engagement">
                      {formatCount(item.engagement)}
                    </td>
                    <td class="num" data-col="sentiment">
                      {formatSentiment(item.sentiment)}
                    </td>
                    <td class="num" data-col="previous">
                      {formatCount(item.previousMentions)}
                    </td>
                    <td class={`num ${growthClass(item.growth)}`} data-col="growth">
                      {formatGrowth(item.growth)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <SearchPanel onPick={(key, name) => setSelected({ key, name })} />
      {selected && (
        <SeriesPanel
          trendKey={selected.key}
          name={selected.name}
          platform={platformFilter}
          region={regionFilter}
        />
      )}
    </div>
  );
}

export const growthClass = (growth: number | null) =>
  growth === null ? 'new' : growth > 0 ? 'up' : growth < 0 ? 'down' : '';

function SearchPanel(props: { onPick: (key: string, name: string) => void }) {
  const [q, setQ] = useState('');
  const term = useDebounced(q.trim(), 250);
  const results = useLoad(
    (signal) =>
      api<{ items: SearchItem[] }>('/api/v1/trends/search', {
        query: { q: term, limit: 10 },
        signal,
      }),
    [term],
    undefined,
    term.length > 0,
  );
  return (
    <Section title="Search" id="search">
      <form class="controls" role="search" onSubmit={(e) => e.preventDefault()}>
        <TextInput
          id="search-q"
          label="Trend key starts with"
          value={q}
          onChange={setQ}
          type="search"
        />
      </form>
      {term && (
        <Status
          loading={results.loading}
          error={results.error}
          empty={results.data?.items.length === 0}
          emptyText="No trend starts with that."
        />
      )}
      {term && results.data && results.data.items.length > 0 && (
        <ul class="results" data-testid="search-results">
          {results.data.items.map((item) => (
            <li key={item.trendKey}>
              <button
                type="button"
                class="link"
                onClick={() => props.onPick(item.trendKey, item.displayName)}
              >
                {item.displayName}
              </button>{' '}
              <span class="muted">
                {formatCount(item.mentions24h)} mentions in 24h · last seen{' '}
                {formatTime(item.lastSeen)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function SeriesPanel(props: { trendKey: string; name: string; platform: string; region: string }) {
  const [interval, setInterval] = useState<string>('hour');
  const series = useLoad(
    (signal) =>
      api<SeriesAnswer>(`/api/v1/trends/${encodeURIComponent(props.trendKey)}/series`, {
        query: { interval, platform: props.platform, region: props.region },
        signal,
      }),
    [props.trendKey, interval, props.platform, props.region],
    'trends',
  );
  const total = series.data?.points.reduce((sum, p) => sum + p.mentions, 0);
  return (
    <Section title={`Series: ${props.name}`} id="series">
      <form class="controls" onSubmit={(e) => e.preventDefault()}>
        <Select
          id="series-interval"
          label="Interval"
          value={interval}
          options={INTERVALS}
          onChange={setInterval}
        />
      </form>
      <Status
        loading={series.loading && !series.data}
        error={series.error}
        notAvailable="This trend has never been observed."
      />
      {series.data && (
        <>
          <p class="caption">
            {series.data.points.length} {interval} buckets · {formatCount(total)} mentions
          </p>
          <TimeSeriesChart
            testId="series-chart"
            label={`Mentions of ${props.name} per ${interval}`}
            buckets={series.data.points.map((p) => p.bucket)}
            series={[{ label: 'mentions', values: series.data.points.map((p) => p.mentions) }]}
          />
        </>
      )}
    </Section>
  );
}
