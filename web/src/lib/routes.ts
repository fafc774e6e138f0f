/** Views and their hash routes (`#/movers`); hash routing keeps the server to one page. */
export const VIEWS = [
  { id: 'trends', label: 'Trends' },
  { id: 'movers', label: 'Movers' },
  { id: 'platforms', label: 'Platforms' },
  { id: 'alerts', label: 'Alerts' },
  { id: 'operations', label: 'Operations' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

export function parseRoute(route: string): ViewId {
  const id = route.replace(/^[#/]+/, '').split(/[/?&]/)[0];
  return VIEWS.some((v) => v.id === id) ? (id as ViewId) : 'trends';
}

export const routeHref = (id: ViewId) => `#/${id}`;
