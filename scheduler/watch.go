package scheduler

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/hashicorp/nomad/api"
)

// Watch calls fn with the worker's Status at once and then again every time
// it changes (the job, its latest deployment or its allocations), until fn
// returns false (Watch returns nil) or ctx ends (Watch returns ctx's cause).
// It waits with blocking queries (WaitIndex) on the job, its latest
// deployment and its allocations, never with sleeps; a wake-up that changed
// nothing the Status shows does not call fn. A worker without a job, or
// whose job is purged while watched, ends Watch with an error wrapping
// ErrNotFound; a failed query ends it with that error.
func (s *Scheduler) Watch(ctx context.Context, worker string, fn func(WorkerStatus) bool) error {
	if err := checkWorker(worker); err != nil {
		return err
	}
	jobID := JobID(worker)
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	// Each watcher runs its own blocking query in a loop and signals when
	// its index moves; the signals coalesce, so a burst of changes costs
	// one Status read.
	changed := make(chan struct{}, 1)
	failed := make(chan error, 3)
	watch := func(what string, query func(*api.QueryOptions) (*api.QueryMeta, error)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var index uint64
			for {
				meta, err := query(qopts(wctx, index))
				if wctx.Err() != nil {
					return
				}
				if err != nil && !isNotFound(err) {
					failed <- fmt.Errorf("watch worker %s: %s: %w", worker, what, err)
					return
				}
				if err != nil || meta.LastIndex != index {
					// A 404 is a change too: the Status read it
					// triggers reports the job gone.
					if err == nil {
						index = meta.LastIndex
					}
					select {
					case changed <- struct{}{}:
					default:
					}
					if err != nil {
						return
					}
				}
			}
		}()
	}
	watch("job", func(q *api.QueryOptions) (*api.QueryMeta, error) {
		_, meta, err := s.client.Jobs().Info(jobID, q)
		return meta, err
	})
	watch("allocations", func(q *api.QueryOptions) (*api.QueryMeta, error) {
		_, meta, err := s.client.Jobs().Allocations(jobID, false, q)
		return meta, err
	})
	watch("deployment", func(q *api.QueryOptions) (*api.QueryMeta, error) {
		_, meta, err := s.client.Jobs().LatestDeployment(jobID, q)
		return meta, err
	})

	var last *WorkerStatus
	for {
		st, err := s.Status(ctx, worker)
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return err
		}
		if last == nil || !sameStatus(*last, st) {
			if !fn(st) {
				return nil
			}
			last = &st
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case err := <-failed:
			return err
		case <-changed:
		}
	}
}

// sameStatus reports whether a and b show the same thing, whatever index
// they were read at.
func sameStatus(a, b WorkerStatus) bool {
	a.Index, b.Index = 0, 0
	return reflect.DeepEqual(a, b)
}
