/** Answer shapes of the API (SPEC §5, §7, §8, §12), as far as the dashboard reads them. */
export interface TopItem {
  rank: number;
  trendKey: string;
  displayName: string;
  mentions: number;
  engagement: number;
  sentiment: number | null;
  previousMentions: number;
  growth: number | null;
}
export interface TopAnswer {
  window: { from: string; to: string };
  items: TopItem[];
}
export interface SeriesPoint {
  bucket: string;
  mentions: number;
  engagement: number;
  sentiment: number | null;
  samples: number;
}
export interface SeriesAnswer {
  trendKey: string;
  interval: string;
  points: SeriesPoint[];
}
export interface SearchItem {
  trendKey: string;
  displayName: string;
  lastSeen: string;
  mentions24h: number;
}
export interface MoverItem {
  rank: number;
  trendKey: string;
  displayName: string;
  mentions: number;
  previousMentions: number;
  change: number;
  growth: number | null;
}
export interface MoversAnswer {
  window: { from: string; to: string };
  items: MoverItem[];
  new: MoverItem[];
}
export interface PlatformItem {
  platform: string;
  mentions: number;
  engagement: number;
  observations: number;
  distinctTrends: number;
  share: number;
}
export interface PlatformsAnswer {
  from: string;
  to: string;
  items: PlatformItem[];
}
export interface Totals {
  observations: number;
  mentions: number;
  engagement: number;
  distinctTrends: number;
  sentiment: number | null;
}
export interface OverviewAnswer {
  from: string;
  to: string;
  totals: Totals;
}
