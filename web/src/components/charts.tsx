import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatCount, formatPercent, formatTime } from '../lib/format';

const HEIGHT = 260;
const COLORS = ['#1f5fa8', '#c2571a', '#2e7d32', '#7b3fa0', '#8a6d00', '#00838f'];

/** Keeps a uPlot sized to its container; the chart library does all drawing. */
function usePlot(
  make: (width: number) => { options: uPlot.Options; data: uPlot.AlignedData },
  deps: unknown[],
) {
  const container = useRef<HTMLDivElement>(null);
  const makeRef = useRef(make);
  makeRef.current = make;
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const width = Math.max(320, element.clientWidth);
    const { options, data } = makeRef.current(width);
    const plot = new uPlot(options, data, element);
    // Exposes exactly what was handed to the chart, for tests and for debugging.
    element.dataset.points = JSON.stringify(plot.data);
    element.dataset.ready = 'true';
    const observer = new ResizeObserver(() => {
      const next = Math.max(320, element.clientWidth);
      if (next !== plot.width) plot.setSize({ width: next, height: HEIGHT });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
      delete element.dataset.ready;
    };
  }, deps);
  return container;
}

/** Axis labels in UTC, 24-hour: "14:00", with the date where a day starts or ticks are days. */
export function utcTicks(ticks: number[]): string[] {
  const daily = ticks.length > 1 && ticks[1] - ticks[0] >= 86400;
  return ticks.map((t, i) => {
    const iso = new Date(t * 1000).toISOString();
    const day = iso.slice(5, 10);
    const time = iso.slice(11, 16);
    if (daily) return day;
    return i === 0 || time === '00:00' ? `${day} ${time}` : time;
  });
}

export interface TimeSeriesProps {
  /** Bucket start times, ISO. */
  buckets: string[];
  series: { label: string; values: number[] }[];
  label: string;
  testId?: string;
}

/** A time-series line chart (UTC axis). */
export function TimeSeriesChart(props: TimeSeriesProps) {
  const ref = usePlot(
    (width) => ({
      options: {
        width,
        height: HEIGHT,
        tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        scales: { x: { time: true } },
        axes: [
          { values: (_u: uPlot, ticks: number[]) => utcTicks(ticks) },
          { values: (_u: uPlot, ticks: number[]) => ticks.map((t) => formatCount(t)), size: 70 },
        ],
        series: [
          {
            label: 'UTC',
            value: (_u: uPlot, v: number | null) =>
              v === null ? '—' : formatTime(new Date(v * 1000).toISOString()),
          },
          ...props.series.map((s, i) => ({
            label: s.label,
            stroke: COLORS[i % COLORS.length],
            width: 2,
            points: { show: props.buckets.length <= 60 },
            value: (_u: uPlot, v: number | null) => formatCount(v),
          })),
        ],
      },
      data: [
        props.buckets.map((b) => Date.parse(b) / 1000),
        ...props.series.map((s) => s.values),
      ] as uPlot.AlignedData,
    }),
    [JSON.stringify(props.buckets), JSON.stringify(props.series)],
  );
  return (
    <figure class="chart" aria-label={props.label}>
      <div
        ref={ref}
        class="chart-canvas"
        data-testid={props.testId}
        role="img"
        aria-label={props.label}
      />
    </figure>
  );
}

/** Bars of a fraction per category (platform share), drawn by uPlot's bar path builder. */
export function ShareBarChart(props: {
  categories: string[];
  values: number[];
  label: string;
  testId?: string;
}) {
  const ref = usePlot(
    (width) => ({
      options: {
        width,
        height: HEIGHT,
        scales: {
          x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] },
          y: { range: [0, 1] },
        },
        axes: [
          {
            // one tick per bar, no vertical grid between them
            splits: () => props.categories.map((_c, i) => i),
            values: (_u: uPlot, ticks: number[]) => ticks.map((t) => props.categories[t] ?? ''),
            grid: { show: false },
            gap: 8,
          },
          { values: (_u: uPlot, ticks: number[]) => ticks.map((t) => formatPercent(t)), size: 60 },
        ],
        series: [
          {
            label: 'platform',
            value: (_u: uPlot, v: number | null) =>
              v === null ? '—' : (props.categories[v] ?? ''),
          },
          {
            label: 'share',
            fill: '#1f5fa8cc',
            stroke: '#1f5fa8',
            paths: uPlot.paths.bars!({ size: [0.6, 80] }),
            points: { show: false },
            value: (_u: uPlot, v: number | null) => formatPercent(v),
          },
        ],
        cursor: { drag: { x: false, y: false } },
      },
      data: [props.categories.map((_c, i) => i), props.values] as uPlot.AlignedData,
    }),
    [JSON.stringify(props.categories), JSON.stringify(props.values)],
  );
  return (
    <figure class="chart" aria-label={props.label}>
      <div
        ref={ref}
        class="chart-canvas"
        data-testid={props.testId}
        role="img"
        aria-label={props.label}
      />
    </figure>
  );
}
