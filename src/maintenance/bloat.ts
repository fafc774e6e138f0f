/**
 * Statistics-based btree bloat estimate (no pgstattuple needed): the size the index would
 * have freshly built at the default leaf fillfactor, from its tuple count and the average
 * width of its columns in pg_stats, compared with its actual size. Rough by design — it
 * ignores NULL bitmaps, internal pages and suffix truncation — so it only flags indexes far
 * above their ideal size. Returns the estimated wasted share of the index (0..1), or null
 * when it cannot say (not btree, no statistics, no tuples).
 */
export interface BloatInput {
  method: string;
  pages: number;
  tuples: number;
  keyWidth: number | null;
}

const PAGE_HEADER = 24;
const BTREE_SPECIAL = 16;
const INDEX_TUPLE_HEADER = 8;
const LINE_POINTER = 4;
const LEAF_FILLFACTOR = 0.9;
const MAXALIGN = 8;

export function estimateBloat(index: BloatInput, blockSize = 8192): number | null {
  if (index.method !== 'btree' || index.keyWidth === null || index.tuples <= 0 || index.pages <= 1)
    return null;
  const tupleBytes =
    Math.ceil((INDEX_TUPLE_HEADER + index.keyWidth) / MAXALIGN) * MAXALIGN + LINE_POINTER;
  const usable = (blockSize - PAGE_HEADER - BTREE_SPECIAL) * LEAF_FILLFACTOR;
  const idealPages = Math.ceil((index.tuples * tupleBytes) / usable) + 1; // + metapage
  return Math.max(0, Math.min(1, 1 - idealPages / index.pages));
}
