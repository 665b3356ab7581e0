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
  { path: '/users', component: lazy(() => import('./pages/UsersPage')) },
  { path: '/account', component: lazy(() => import('./pages/AccountPage')) },
  { path: '/audit', component: lazy(() => import('./pages/AuditPage')) },
  { path: '/login', component: lazy(() => import('./pages/LoginPage')) },
  { path: '/setup', component: lazy(() => import('./pages/SetupPage')) },
  { path: '/invite', component: lazy(() => import('./pages/InvitePage')) },
  { path: '*404', component: lazy(() => import('./pages/NotFoundPage')) },
];
