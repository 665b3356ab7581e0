import { A } from '@solidjs/router';
import { paths } from '../paths';

export default function NotFoundPage() {
  return (
    <section class="card empty">
      <h1>Page not found</h1>
      <p>There is nothing at this address.</p>
      <p>
        <A class="button primary" href={paths.overview()}>
          Back to the fleet
        </A>
      </p>
    </section>
  );
}
