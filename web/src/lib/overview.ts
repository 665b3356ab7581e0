/** The part of an overview item that says whether the site got worse over the trend window. */
export interface TrendLike {
  trend: { direction: 'up' | 'down' | 'flat' } | null;
}

export function hasRegressed(item: TrendLike): boolean {
  return item.trend?.direction === 'down';
}

/** Sites whose score dropped over the last 7 days go on top; the API's order is kept otherwise. */
export function regressedFirst<T extends TrendLike>(items: readonly T[]): T[] {
  return [...items.filter(hasRegressed), ...items.filter((item) => !hasRegressed(item))];
}
