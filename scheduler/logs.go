package scheduler

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// Logs returns up to the last tailBytes of one task's stdout (or stderr)
// in one allocation of the worker; task "" means the allocation's only
// task. It reads what the Nomad client has at the time of the call and does
// not follow. An allocation that does not exist or belongs to another
// worker gives an error wrapping ErrNotFound.
func (s *Scheduler) Logs(ctx context.Context, worker, allocID, task string, stderr bool, tailBytes int64) (string, error) {
	if err := checkWorker(worker); err != nil {
		return "", err
	}
	if tailBytes <= 0 {
		return "", fmt.Errorf("%w: logs of worker %s: tail of %d bytes", ErrInvalidSpec, worker, tailBytes)
	}
	alloc, _, err := s.client.Allocations().Info(allocID, qopts(ctx, 0))
	if isNotFound(err) || (err == nil && alloc.JobID != JobID(worker)) {
		return "", fmt.Errorf("logs of worker %s: allocation %s: %w", worker, allocID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("logs of worker %s: allocation %s: %w", worker, allocID, err)
	}
	if task == "" {
		if len(alloc.TaskStates) != 1 {
			return "", fmt.Errorf("logs of worker %s: allocation %s has %d tasks: name one", worker, allocID, len(alloc.TaskStates))
		}
		for name := range alloc.TaskStates {
			task = name
		}
	}
	logType := "stdout"
	if stderr {
		logType = "stderr"
	}

	cancel := make(chan struct{})
	frames, errs := s.client.AllocFS().Logs(alloc, false, task, logType, api.OriginEnd, tailBytes, cancel, qopts(ctx, 0))
	defer func() {
		close(cancel)
		// The reader goroutine may be blocked handing us a frame: drain it
		// until it closes frames or reports an error.
		go func() {
			for {
				select {
				case _, ok := <-frames:
					if !ok {
						return
					}
				case <-errs:
					return
				}
			}
		}()
	}()
	var b strings.Builder
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				return b.String(), nil
			}
			b.Write(f.Data)
		case err := <-errs:
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return b.String(), fmt.Errorf("logs of worker %s: allocation %s task %s: %w", worker, allocID, task, err)
		case <-ctx.Done():
			return b.String(), fmt.Errorf("logs of worker %s: allocation %s task %s: %w", worker, allocID, task, ctx.Err())
		}
	}
}
