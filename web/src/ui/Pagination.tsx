import { Show } from 'solid-js';

/** "Showing 26–50 of 120" with previous/next; pages count from 1. */
export function Pagination(props: {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
}) {
  const pages = () => Math.max(1, Math.ceil(props.total / props.pageSize));
  const first = () => (props.total === 0 ? 0 : (props.page - 1) * props.pageSize + 1);
  const last = () => Math.min(props.total, props.page * props.pageSize);
  return (
    <nav class="pagination" aria-label="Pages">
      <span class="muted" aria-live="polite">
        Showing {first()}–{last()} of {props.total}
      </span>
      <Show when={pages() > 1}>
        <div class="row">
          <button type="button" disabled={props.page <= 1} onClick={() => props.onPage(props.page - 1)}>
            ← Previous
          </button>
          <span>
            Page {props.page} of {pages()}
          </span>
          <button type="button" disabled={props.page >= pages()} onClick={() => props.onPage(props.page + 1)}>
            Next →
          </button>
        </div>
      </Show>
    </nav>
  );
}
