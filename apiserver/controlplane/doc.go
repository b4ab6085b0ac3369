// Package controlplane is what the API server does to Nomad: deploy, stop,
// scale and roll back workers for the HTTP routes, and the loops that run
// on their own — the reconciler, which keeps Nomad in line with the
// workers MySQL says should run, and the lag autoscaler.
//
// Guarantees:
//   - Work that must happen once per installation (reconcile passes,
//     autoscaling decisions) runs only on the API server holding the
//     "control" lease (a row of control_leases, see Lease). Every server
//     runs Plane.Run; one of them acts at a time, and when it dies another
//     takes over within the lease's TTL.
//   - A deploy, stop, scale or reconcile pass holds the installation's
//     Nomad lock (mysql.DB.NomadLock) from reading or writing the desired
//     state until Nomad has answered, so the two never interleave, on one
//     server or across several.
//   - The desired state is written before Nomad is asked: a server that
//     dies in between leaves work the reconciler finishes.
//   - Every deploy, stop, scale, rollback, autoscaling decision, cluster
//     change and reconciler repair is recorded in the event log (package
//     events). An action is not undone when its event cannot be written;
//     the failure is logged.
//   - The autoscaler decides from the job's live count in Nomad and the
//     last autoscale event (so a restart or a new lease holder keeps the
//     cooldown), never while a deployment of the job is active, and
//     reads lag only through a LagReader.
//   - A worker's cluster is a reference: jobs get the cluster's servers as
//     they are when rendered, so a change of them rolls the workers.
package controlplane
