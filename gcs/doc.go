// Package gcs is rayflow's Global Control Store: the replicated tables that
// describe a cluster (nodes, jobs, programs, task lineage, object locations
// and actors), after the GCS of Ray.
//
// The tables are spread over Config.Shards shards by a hash of (table, key).
// Each shard is its own raft group (hashicorp/raft, with raft-boltdb for the
// log when Config.DataDir is set), with its own state machine (fsm.go), its
// own transport and its own batcher (batcher.go), so shards commit in
// parallel and a slow shard delays only its own rows.
//
// Writes are asynchronous: every write method returns a *Future at once
// and Error waits for the commit. Nothing on rayflow's task path waits; a
// caller that needs the write durable calls Error (or WaitAll). The
// batcher of a shard puts the writes that arrive within about a millisecond
// into one raft log entry, so many small writes cost one commit.
//
// Lineage is written a batch at a time (PutTaskBatch, PutTasks): a batch
// is one row of the tasks table, stored as its writer encoded it, and
// GetTask finds a record inside its batch through an index built only
// when a task is asked for (taskbatch.go). A batch's bytes are copied once
// on their way in: into the raft log entry, of which the tables keep the
// batch as a slice (fsm.Apply says why each log store allows it).
//
// Reads (Get*, List*) read this replica's applied state; pass Linearizable
// where a read must see every acknowledged write.
//
// Subscribe delivers change events from the apply path without ever
// blocking it (see Subscription).
//
// Replication: with Config.BindAddr set, shard i of a replica listens on
// the base port plus i. Config.Peers bootstraps a new cluster of several
// replicas; Config.Join starts a replica that the leader adds with
// Store.Join. Writes on a replica that does not lead the row's shard fail
// with a *NotLeaderError that names the leader, unless the replica's
// owner set a Forwarder (forward.go): the replica then hands them, and
// Join, Leave and linearizable reads, to each shard's leader, waiting
// through elections for up to Config.ForwardTimeout, so that any replica
// serves. With Config.RemoveDeadAfter set, each shard's leader removes a
// replica it has not reached for that long (remove.go).
//
// Security: with Config.Token, the replicas' Raft connections start with
// a handshake in which both ends prove the cluster token before Raft reads
// a byte (authstream.go, a raft.StreamLayer), and with Config.TLS they run
// inside TLS; a stranger can neither append, vote nor join.
//
// Ownership and threading: the Store owns its shards; each shard's
// batcher owns its two goroutines (run batches, complete answers and
// forwards in log order); the dead-replica remover owns its observation
// loop. Every exported method is safe for concurrent use.
//
// An embedded single replica:
//
//	st, err := gcs.Open(gcs.DefaultConfig())
//	if err != nil { ... }
//	defer st.Close()
package gcs
