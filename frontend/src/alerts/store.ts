// The firing alerts, for the top bar's badge and the worker panel: one
// store for the app, refreshed every 15 s while someone is logged in.
import { createContext, useContext } from "react";
import { useStore } from "zustand";
import { createStore } from "zustand/vanilla";
import { api } from "../api/client";
import type { Alert } from "../api/types";
import { usePoll } from "../usePoll";

/** How often the UI asks for alerts. */
export const ALERTS_EVERY_MS = 15_000;
/** The most firing alerts fetched; the badge shows "100+" beyond. */
export const FIRING_LIMIT = 100;

export interface FiringState {
  alerts: Alert[];
  /** why the last refresh failed; the previous alerts stay */
  error: string;
  refresh(): Promise<void>;
}

export function createFiringStore(load: () => Promise<Alert[]> = () => api.alerts("firing", undefined, FIRING_LIMIT)) {
  return createStore<FiringState>()((set) => ({
    alerts: [],
    error: "",
    refresh: () => load().then((alerts) => set({ alerts, error: "" }), (e: Error) => set({ error: e.message })),
  }));
}

export type FiringStore = ReturnType<typeof createFiringStore>;

export const FiringContext = createContext<FiringStore | null>(null);

/** useFiring selects from the app's firing alerts. */
export function useFiring<T>(select: (s: FiringState) => T): T {
  const store = useContext(FiringContext);
  if (!store) throw new Error("useFiring must be inside FiringContext");
  return useStore(store, select);
}

/** useFiringPoll refreshes the store now and every 15 s; null (logged out): not at all. */
export function useFiringPoll(store: FiringStore, everyMs: number | null): void {
  usePoll(() => void store.getState().refresh(), everyMs);
}
