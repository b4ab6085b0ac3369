package scheduler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"

	"github.com/hashicorp/nomad/api"
)

// ErrNoVariables means the Nomad cluster has no Variables API (Nomad
// before 1.4) or the token may not write the worker's variable. Deploy
// then fails rather than fall back to putting secrets in the job spec.
var ErrNoVariables = errors.New("nomad variables unavailable")

// SecretsPath is the Nomad Variable holding a job's secrets. Nomad grants
// every task of job <id> read access to nomad/jobs/<id> through its
// workload identity, with no ACL policy to write.
func SecretsPath(jobID string) string { return "nomad/jobs/" + jobID }

// validVariablePath is Nomad's own rule (nomad/structs/variables.go): no
// '.', which worker names may hold, and at most 128 characters.
var validVariablePath = regexp.MustCompile(`^[a-zA-Z0-9_~/-]{1,128}$`)

// checkSecrets refuses a spec whose secrets cannot live at its job's
// variable path.
func (spec WorkerSpec) checkSecrets() error {
	if len(spec.Secrets) == 0 {
		return nil
	}
	if p := SecretsPath(JobID(spec.Worker)); !validVariablePath.MatchString(p) {
		return fmt.Errorf("%w: worker %s: its secrets need the Nomad Variable %s, and Nomad allows only letters, digits, '-', '_', '~' and '/' in a variable path: rename the worker without '.'",
			ErrInvalidSpec, spec.Worker, p)
	}
	for k, v := range spec.Secrets {
		if k == "" || v == "" {
			return fmt.Errorf("%w: worker %s: secret %q is empty", ErrInvalidSpec, spec.Worker, k)
		}
	}
	return nil
}

// writeSecrets makes the job's variable hold exactly secrets, writing only
// when they differ: a write makes the template of every running allocation
// render again, and its change_mode restarts the task. It reports whether
// it wrote. The write is checked against the index it read, so two writers
// never interleave silently.
func (s *Scheduler) writeSecrets(ctx context.Context, jobID string, secrets map[string]string) (bool, error) {
	path := SecretsPath(jobID)
	cur, _, err := s.client.Variables().Read(path, qopts(ctx, 0))
	var index uint64
	switch {
	case errors.Is(err, api.ErrVariablePathNotFound):
	case err != nil:
		return false, variablesError("read", path, err)
	default:
		if maps.Equal(map[string]string(cur.Items), secrets) {
			return false, nil
		}
		index = cur.ModifyIndex
	}
	v := &api.Variable{Path: path, Items: api.VariableItems(secrets), ModifyIndex: index}
	if _, _, err := s.client.Variables().CheckedUpdate(v, wopts(ctx)); err != nil {
		return false, variablesError("write", path, err)
	}
	return true, nil
}

// deleteSecrets removes the job's variable; a missing one is no error.
func (s *Scheduler) deleteSecrets(ctx context.Context, jobID string) error {
	path := SecretsPath(jobID)
	if _, err := s.client.Variables().Delete(path, wopts(ctx)); err != nil && !isNotFound(err) {
		return variablesError("delete", path, err)
	}
	return nil
}

// variablesError names what an operator must fix: an agent too old for
// Variables answers their routes 404 (a write never 404s otherwise) or
// 405, and a token without the capability 403.
func variablesError(op, path string, err error) error {
	var ue api.UnexpectedResponseError
	if errors.As(err, &ue) {
		switch ue.StatusCode() {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			return fmt.Errorf("%w: %s %s: this Nomad has no Variables API (Nomad 1.4 or later is needed; secrets are never put in the job spec instead): %v",
				ErrNoVariables, op, path, err)
		case http.StatusForbidden:
			return fmt.Errorf("%w: %s %s: the Nomad token lacks the variables capability on nomad/jobs/%s*: %v",
				ErrNoVariables, op, path, JobPrefix, err)
		}
	}
	return fmt.Errorf("%s nomad variable %s: %w", op, path, err)
}
