import { Router } from '@solidjs/router';
import { render } from 'solid-js/web';
import { routes } from './routes';
import { Shell } from './ui/Shell';
import './styles/app.css';

const root = document.getElementById('root');
if (root) render(() => <Router root={Shell}>{routes}</Router>, root);
