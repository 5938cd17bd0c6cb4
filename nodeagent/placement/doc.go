// Package placement is rayflow's global scheduler, written as a pure
// function of a request and a read-only snapshot of the cluster.
//
// Scheduling in rayflow is bottom-up, as in Ray: a task is first offered to
// the local scheduler of the node that submitted it, which runs it there
// when it can (ShouldSpill) and otherwise spills it to the global scheduler.
// The global scheduler (Place) picks a node from the latest heartbeats of
// every node (a Snapshot). Because it is a function of its inputs, it is
// tested without a cluster: a Harness records the plans produced for many
// simulated nodes, in the manner of nomad's scheduler package.
//
// Place is a chain of small steps:
//
//  1. feasibility (feasible.go): the node is alive, its total resources
//     can hold the demand, and the task has not already failed there
//     (Request.Avoid);
//  2. ranking (rank.go): among feasible nodes that have the demand free now,
//     the highest score wins; the score weighs free resources after
//     placement, queue length and data locality, and is documented in
//     rank.go;
//  3. if no feasible node has the demand free now, the task goes to the
//     feasible node where it should wait least (it queues there), and the
//     Decision says so;
//  4. ties go to the smallest node ID, so the same input always gives the
//     same output.
//
// A placement hint comes before steps 2 and 3 (hint.go): a preferred
// node (Request.Prefer, from locality or colocate) that is feasible gets
// the task, to run or to queue; a spread key (Request.Spread) takes the
// next feasible node with room round-robin. A hint that cannot be
// honoured falls through to the ranking.
//
// A Planner places a batch of requests against one snapshot and reserves
// what each placement takes, so that a batch never over-commits a node.
// Over more than SampleAbove nodes it places a request without hint or
// argument bytes by ranking a sample of the nodes (sampled.go), so that a
// placement costs about as much on 1,000 nodes as on 100; it still
// queues a task only when no node has its demand free.
//
// # Ownership and threading
//
// The package has no mutable state (ErrInfeasible and a table of
// reciprocals are only read). Place and ShouldSpill only read their
// arguments (a Snapshot, a Request and its maps): any goroutine may call
// them, on a snapshot others read too.
//
// A Planner owns a private copy of the node states (made by NewPlanner,
// grown by Report), the reservations made on them, its index from node
// ID to state, the last node of each spread key, and the sampling's
// cursor, ID order and memo of a demand no node had free. It has no lock and is not safe for concurrent use:
// its owner serialises every call. In the runtime that owner is
// nodeagent/head's Membership, which keeps one Planner and calls it only
// under Membership.mu (heartbeats Report, Place and PlaceBatch reserve).
// The Snapshot a Planner returns is its own state: read it under the
// same serialisation, and copy it to keep it (Membership.Snapshot does).
// A Harness (tests) owns a Planner and its plans; one goroutine uses it.
//
// Consumers: nodeagent/head (the Planner), nodeagent (ShouldSpill in
// the local scheduler, Place for the embedded cluster and feasibility
// checks), nodeagent/wire (NodeState in heartbeats). It imports
// only nodeagent/resources.
package placement
