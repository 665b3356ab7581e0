import type { RouteDefinition } from '@solidjs/router';
import { lazy } from 'solid-js';

const numericId = { id: /^\d+$/ };

/** The route table: every page is its own lazily loaded chunk. Links are built by paths.ts. */
export const routes: RouteDefinition[] = [
  { path: '/', component: lazy(() => import('./pages/OverviewPage')) },
  { path: '/sites/new', component: lazy(() => import('./pages/AddSitesPage')) },
  { path: '/sites/:id', component: lazy(() => import('./pages/SitePage')), matchFilters: numericId },
  { path: '/sites/:id/diff', component: lazy(() => import('./pages/DiffPage')), matchFilters: numericId },
  { path: '/incidents', component: lazy(() => import('./pages/IncidentsPage')) },
  { path: '/settings', component: lazy(() => import('./pages/SettingsPage')) },
  { path: '*404', component: lazy(() => import('./pages/NotFoundPage')) },
];
