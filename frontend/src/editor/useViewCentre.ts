import { useStoreApi } from "@xyflow/react";

/** useViewCentre gives where on the canvas the middle of the view is, for nodes added by hand. */
export function useViewCentre(): () => { x: number; y: number } {
  const rf = useStoreApi();
  return () => {
    const { width, height, transform: [tx, ty, zoom] } = rf.getState();
    return { x: (width / 2 - tx) / zoom, y: (height / 2 - ty) / zoom };
  };
}
