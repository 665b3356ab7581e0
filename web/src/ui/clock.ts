import { type Accessor, createContext, createSignal, onCleanup, useContext } from 'solid-js';

const NowContext = createContext<Accessor<Date>>(() => new Date());

export const NowProvider = NowContext.Provider;

/** One ticking clock for the whole page, so relative times ("2 minutes ago") stay true without a timer each. */
export function createClock(everyMs = 30_000): Accessor<Date> {
  const [now, setNow] = createSignal(new Date());
  const timer = setInterval(() => setNow(new Date()), everyMs);
  onCleanup(() => clearInterval(timer));
  return now;
}

export function useNow(): Accessor<Date> {
  return useContext(NowContext);
}
