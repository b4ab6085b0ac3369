package controlplane

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/events"
)

// UpdateCluster replaces cluster id's definition for actor. When its
// bootstrap servers change, every worker that uses it gets a redeploy
// event naming the change, and the reconciler is woken: it rolls the
// running ones onto the new servers (their jobs read the cluster through
// the reference, see mysql.Desired).
func (p *Plane) UpdateCluster(ctx context.Context, id int64, c apiserver.Cluster, actor string) (apiserver.Cluster, error) {
	before, err := p.db.Cluster(ctx, id)
	if err != nil {
		return before, err
	}
	saved, err := p.db.UpdateCluster(ctx, id, c)
	if err != nil || slices.Equal(before.BootstrapServers, saved.BootstrapServers) {
		return saved, err
	}
	ws, err := p.db.Workers(ctx, 0)
	if err != nil {
		p.log.Error("cluster changed: list its workers", "cluster", id, "error", err.Error())
	}
	for _, w := range ws {
		if w.ClusterID != id {
			continue
		}
		p.record(ctx, events.Event{Actor: actor, Action: events.ActionRedeploy, WorkerID: w.ID, PipelineID: w.PipelineID,
			From: events.JSON(map[string]any{"bootstrap_servers": before.BootstrapServers}),
			To:   events.JSON(map[string]any{"bootstrap_servers": saved.BootstrapServers}),
			Reason: fmt.Sprintf("cluster %s's bootstrap servers changed from %s to %s; the reconciler rolls the worker if it runs",
				saved.Name, strings.Join(before.BootstrapServers, ","), strings.Join(saved.BootstrapServers, ","))})
	}
	p.Notify()
	return saved, nil
}
