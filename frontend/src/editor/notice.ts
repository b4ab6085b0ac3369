// The editor's one message of the moment (saved, refused, failed), shown
// in the toolbar's status area, so it is always in view: a store of its
// own, so that a message re-renders the status area and nothing else.
import { createStore } from "zustand/vanilla";

export type NoticeTone = "info" | "error";

/** How long a message stays: an error longer, since it asks for something to be done. */
export const NOTICE_MS: Record<NoticeTone, number> = { info: 5_000, error: 15_000 };

export interface NoticeState {
  text: string;
  tone: NoticeTone;
  show(text: string, tone?: NoticeTone): void;
  dismiss(): void;
}

export function createNoticeStore() {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return createStore<NoticeState>()((set) => ({
    text: "",
    tone: "info",
    show(text, tone = "info") {
      clearTimeout(timer);
      set({ text, tone });
      timer = setTimeout(() => set({ text: "" }), NOTICE_MS[tone]);
    },
    dismiss() {
      clearTimeout(timer);
      set({ text: "" });
    },
  }));
}

export type NoticeStore = ReturnType<typeof createNoticeStore>;
