import { useState } from 'preact/hooks';
import { Section, Select, Status, TextInput } from '../components/ui';
import { useDebounced, useLoad } from '../context';
import { api } from '../lib/api';
import { formatChange, formatCount, formatGrowth, formatTime } from '../lib/format';
import { MoverItem, MoversAnswer } from '../types';
import { growthClass } from './Trends';

const WINDOWS = ['1h', '6h', '24h', '7d', '30d'] as const;

export function MoversView() {
  const [window, setWindow] = useState('24h');
  const [direction, setDirection] = useState('rising');
  const [minMentions, setMinMentions] = useState('');
  const [platform, setPlatform] = useState('');
  const typedMinimum = /^\d+$/.test(minMentions.trim()) ? minMentions.trim() : '';
  const minimum = useDebounced(typedMinimum);
  const platformFilter = useDebounced(platform.trim());
  const movers = useLoad(
    (signal) =>
      api<MoversAnswer>('/api/v1/analytics/movers', {
        query: { window, direction, minMentions: minimum, platform: platformFilter, limit: 20 },
        signal,
      }),
    [window, direction, minimum, platformFilter],
    'trends',
  );
  return (
    <div class="view">
      <Section title="Movers" id="movers">
        <form class="controls" onSubmit={(e) => e.preventDefault()}>
          <Select
            id="movers-window"
            label="Window"
            value={window}
            options={WINDOWS}
            onChange={setWindow}
          />
          <Select
            id="movers-direction"
            label="Direction"
            value={direction}
            options={['rising', 'falling']}
            onChange={setDirection}
          />
          <TextInput
            id="movers-min"
            label="Minimum mentions"
            value={minMentions}
            onChange={setMinMentions}
            type="number"
          />
          <TextInput
            id="movers-platform"
            label="Platform"
            value={platform}
            placeholder="all"
            onChange={setPlatform}
          />
        </form>
        {movers.data && (
          <p class="caption">
            {formatTime(movers.data.window.from)} – {formatTime(movers.data.window.to)} against the
            window before
          </p>
        )}
        <Status
          loading={movers.loading && !movers.data}
          error={movers.error}
          empty={movers.data?.items.length === 0}
          emptyText={`No ${direction} trends in this window.`}
        />
        {movers.data && movers.data.items.length > 0 && (
          <MoverTable items={movers.data.items} testId="movers-table" />
        )}
      </Section>
      <Section title="New this window" id="movers-new">
        <Status empty={movers.data?.new.length === 0} emptyText="No trend is new in this window." />
        {movers.data && movers.data.new.length > 0 && (
          <MoverTable items={movers.data.new} testId="movers-new-table" />
        )}
      </Section>
    </div>
  );
}

function MoverTable(props: { items: MoverItem[]; testId: string }) {
  return (
    <div class="table-wrap">
      <table data-testid={props.testId}>
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
              Previous
            </th>
            <th scope="col" class="num">
              Change
            </th>
            <th scope="col" class="num">
              Growth
            </th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((item) => (
            <tr key={item.trendKey} data-trend-key={item.trendKey}>
              <td class="num">{item.rank}</td>
              <td>{item.displayName}</td>
              <td class="num" data-col="mentions">
                {formatCount(item.mentions)}
              </td>
              <td class="num" data-col="previous">
                {formatCount(item.previousMentions)}
              </td>
              <td class="num" data-col="change">
                {formatChange(item.change)}
              </td>
              <td class={`num ${growthClass(item.growth)}`} data-col="growth">
                {formatGrowth(item.growth)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
