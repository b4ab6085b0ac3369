import { memo } from "react";
import { historyKey } from "../../../charts/history";
import { Sparkline } from "../../../charts/Sparkline";
import { useHistory } from "../../context";

/**
 * NodeHistory is a worker node's last hour: lag and rate (in and out) as
 * sparklines. It selects only its own worker's two charts, so a refresh
 * re-renders it and nothing else; it shows nothing before the first points.
 */
export const NodeHistory = memo(function NodeHistory({ workerId }: { workerId: number }) {
  const lag = useHistory((s) => s.charts[historyKey(workerId, "lag")]);
  const rate = useHistory((s) => s.charts[historyKey(workerId, "rate")]);
  if (!lag?.points && !rate?.points) return null;
  return (
    <div className="node-history" data-testid="node-history">
      {lag && lag.points > 0 && <Sparkline label="lag" chart={lag} />}
      {rate && rate.points > 0 && <Sparkline label="in/out" chart={rate} />}
    </div>
  );
});
